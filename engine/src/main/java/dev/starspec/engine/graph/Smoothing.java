package dev.starspec.engine.graph;

/**
 * SmoothQuant's per-input-channel factors s: the graph computes {@code (x / s) (W diag(s))^T}, which equals
 * {@code x W^T} exactly in real arithmetic but moves activation outliers into the weights. Where a LayerNorm
 * feeds the linear layer, 1/s is folded into its gain and shift; elsewhere the graph multiplies by 1/s.
 */
@FunctionalInterface
public interface Smoothing {

    Smoothing NONE = linear -> null;

    /** The factors for the named linear layer ({@code h.3.mlp.c_fc}), or null to leave it alone. */
    float[] scales(String linear);
}
