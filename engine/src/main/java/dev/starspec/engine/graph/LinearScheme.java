package dev.starspec.engine.graph;

import java.util.function.Supplier;

/**
 * How a linear layer {@code y = x W^T + b} is written into the graph. This is the one thing a quantization
 * scheme decides; the rest of the forward pass is the same for all of them.
 */
public interface LinearScheme {

    /** Short name recorded in the manifest: fp32, int8, int4. */
    String name();

    /**
     * Emits {@code y = x W^T + b}.
     *
     * @param weight {@code [out, in]} row-major (the Hugging Face layout)
     * @param bias {@code [out]}, or null
     * @return the name of y
     */
    String linear(GraphBuilder g, String x, String name, float[] weight, float[] bias, int out, int in);

    /**
     * Emits the logits {@code x H^T} for the lm_head H {@code [vocab, embd]}. Usually H is tied to the token
     * embedding and {@code tied} names that initializer, so float32 schemes reuse it; otherwise (an explicit
     * lm_head.weight) {@code tied} is null. {@code values} reads H when the scheme needs the numbers.
     */
    /** Whether {@link #lmHead} stores its own (quantized) copy rather than reading the float32 matrix. */
    default boolean quantizesLmHead() {
        return false;
    }

    default String lmHead(GraphBuilder g, String x, String tied, Supplier<float[]> values, int vocab, int embd) {
        String head = tied != null ? tied : g.weight("lm_head.weight", values.get(), vocab, embd);
        return g.msOp("FusedMatMul", "lm_head.logits", new String[] {x, head}, GraphBuilder.Attr.of("transB", 1L));
    }
}
