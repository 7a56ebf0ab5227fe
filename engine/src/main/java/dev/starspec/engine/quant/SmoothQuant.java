package dev.starspec.engine.quant;

import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.checkpoint.WeightSource;
import dev.starspec.engine.graph.FloatLinear;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.Signature;
import dev.starspec.engine.graph.Smoothing;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.RuntimeOptions;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.arrow.memory.BufferAllocator;

/**
 * SmoothQuant (Xiao et al. 2023): activations of LLMs have a few channels with very large values that make them
 * hard to quantize, while weights are easy. Per input channel j, {@code s_j = max|X_j|^a / max|W_j|^(1-a)}
 * divides the activation and multiplies the weight column, so {@code X W^T} is unchanged but both sides become
 * equally easy to quantize. max|X_j| comes from running the float model over calibration text.
 */
public final class SmoothQuant {

    private SmoothQuant() {}

    /**
     * Per-input-channel max |x| of every linear layer's input over the calibration texts, from a float32 model
     * whose graph exposes those inputs.
     */
    public static Map<String, float[]> activationMaxima(Model probed, List<String> texts) {
        List<GptBigCodeGraph.Linear> layers = GptBigCodeGraph.linearLayers(probed.config());
        List<String> outputs = layers.stream().map(l -> Signature.linearInput(l.name())).toList();
        Map<String, float[]> maxima = new HashMap<>();
        int context = probed.config().nPositions();
        for (String text : texts) {
            int[] ids = probed.tokenizer().encode(text);
            if (ids.length == 0) {
                continue;
            }
            int[] window = ids.length > context ? Arrays.copyOf(ids, context) : ids;
            Map<String, float[]> seen = probed.probe(window, outputs);
            for (GptBigCodeGraph.Linear l : layers) {
                accumulate(maxima.computeIfAbsent(l.name(), k -> new float[l.in()]),
                        seen.get(Signature.linearInput(l.name())), l.in());
            }
        }
        return maxima;
    }

    /**
     * The same maxima, computed block by block (see {@link BlockStream}): the calibration texts' hidden states
     * pass through one float32 block at a time, so a model far larger than memory calibrates in about two blocks'
     * weights. Progress and each block's time go to {@code log}.
     */
    public static Map<String, float[]> activationMaxima(WeightSource weights, List<int[]> sequences, Path work,
                                                        RuntimeOptions runtime, BufferAllocator memory,
                                                        Consumer<String> log) {
        ModelConfig c = weights.config();
        GptBigCodeGraph.Options probe = new GptBigCodeGraph.Options(new FloatLinear(), Smoothing.NONE, true);
        Map<String, float[]> maxima = new HashMap<>();
        List<GptBigCodeGraph.Linear> all = GptBigCodeGraph.linearLayers(c);
        long start = System.nanoTime();
        try (BlockStream stream = new BlockStream(c, sequences, memory)) {
            for (int layer = 0; layer < c.nLayer(); layer++) {
                long blockStart = System.nanoTime();
                String prefix = "h." + layer + ".";
                List<GptBigCodeGraph.Linear> layers = all.stream().filter(l -> l.name().startsWith(prefix)).toList();
                List<String> outputs = layers.stream().map(l -> Signature.linearInput(l.name())).toList();
                try (BlockStream.Block block = BlockStream.load(weights, probe, layer, work, runtime, memory)) {
                    for (int i = 0; i < stream.size(); i++) {
                        Map<String, float[]> seen = stream.step(block, i, outputs, layer == c.nLayer() - 1);
                        for (GptBigCodeGraph.Linear l : layers) {
                            accumulate(maxima.computeIfAbsent(l.name(), k -> new float[l.in()]),
                                    seen.get(Signature.linearInput(l.name())), l.in());
                        }
                    }
                }
                log.accept(String.format("calibration: block %d/%d in %.1f s", layer + 1, c.nLayer(),
                        (System.nanoTime() - blockStart) / 1e9));
            }
        }
        log.accept(String.format("calibration: %d blocks in %.1f s", c.nLayer(), (System.nanoTime() - start) / 1e9));
        return maxima;
    }

    private static void accumulate(float[] max, float[] x, int in) {
        for (int i = 0; i < x.length; i++) {
            int channel = i % in;
            max[channel] = Math.max(max[channel], Math.abs(x[i]));
        }
    }

    /** The smoothing factors for every linear layer, from the activation maxima and the weights. */
    public static Smoothing factors(Map<String, float[]> activationMaxima, WeightSource weights, double alpha) {
        Map<String, float[]> scales = new HashMap<>();
        for (GptBigCodeGraph.Linear l : GptBigCodeGraph.linearLayers(weights.config())) {
            float[] xMax = activationMaxima.get(l.name());
            if (xMax == null) {
                throw new IllegalStateException("no calibration statistics for " + l.name());
            }
            float[] w = weights.read(l.hfName() + ".weight", l.out(), l.in());
            float[] wMax = new float[l.in()];
            for (int o = 0; o < l.out(); o++) {
                for (int i = 0; i < l.in(); i++) {
                    wMax[i] = Math.max(wMax[i], Math.abs(w[o * l.in() + i]));
                }
            }
            float[] s = new float[l.in()];
            for (int i = 0; i < l.in(); i++) {
                s[i] = factor(xMax[i], wMax[i], alpha);
            }
            scales.put(l.name(), s);
        }
        return scales::get;
    }

    static float factor(float xMax, float wMax, double alpha) {
        if (xMax <= 0 || wMax <= 0) {
            return 1f; // a dead channel: nothing to migrate
        }
        double s = Math.pow(xMax, alpha) / Math.pow(wMax, 1 - alpha);
        return (float) Math.min(1e5, Math.max(1e-5, s));
    }
}
