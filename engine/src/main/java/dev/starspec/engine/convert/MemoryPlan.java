package dev.starspec.engine.convert;

import dev.starspec.engine.artifact.QuantSpec;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.runtime.Model;
import java.util.List;

/**
 * What a conversion will need at its peak, worked out before it starts, so that a model too large for the machine
 * is refused with the numbers rather than killed halfway. Each phase holds at most two spans of the model in
 * ONNX Runtime (a block, with the embedding or the head when it is the first or the last) plus the token streams
 * between them; the writer holds one tensor at a time.
 *
 * <p>Estimates: a float32 span costs twice its weights while ONNX Runtime loads and packs it; a quantized span
 * 1.5 times its bytes; the JVM itself half a gigabyte.
 */
public record MemoryPlan(long calibration, long quality, long write, long available) {

    private static final long JVM = 512L << 20;

    public static MemoryPlan of(ModelConfig c, QuantSpec quant, List<int[]> calibrationIds, List<int[]> heldOutIds,
                                int qualityPositions) {
        long block = 4 * blockParameters(c);
        long embedding = 4L * (c.vocabSize() + c.nPositions()) * c.nEmbd();
        long floatHead = 4L * c.vocabSize() * c.nEmbd();
        double quantShare = quant.scheme().equals("int4") ? 0.16 : quant.scheme().equals("int8") ? 0.28 : 1.0;
        long widestFloatSpan = block + Math.max(embedding, floatHead);
        long calibration = quant.scheme().equals("int8")
                ? 2 * widestFloatSpan + 2 * streams(c, calibrationIds, Integer.MAX_VALUE) : 0;
        long quality = 0;
        if (!heldOutIds.isEmpty()) {
            long quantSpan = (long) (1.5 * (quantShare * block + embedding + (quant.quantizeLmHead() ? quantShare : 1)
                    * floatHead));
            int longest = heldOutIds.stream().mapToInt(ids -> ids.length).max().orElse(0);
            quality = 2 * widestFloatSpan + quantSpan + 4 * streams(c, heldOutIds, qualityPositions)
                    + 2L * 4 * longest * c.vocabSize();
        }
        long largestTensor = Math.max(floatHead, 4L * c.nInner() * c.nEmbd());
        long write = 2 * largestTensor;
        return new MemoryPlan(calibration + JVM, quality + JVM, write + JVM, Model.physicalMemory());
    }

    /** Parameters of one block: its four linear layers with their biases and its two LayerNorms. */
    static long blockParameters(ModelConfig c) {
        long e = c.nEmbd();
        long qkv = e + 2L * c.kvDim();
        return qkv * e + qkv + e * e + e + 2 * c.nInner() * e + c.nInner() + e + 4 * e;
    }

    /** Residual streams (hidden and pending) of the sequences a phase keeps between blocks. */
    private static long streams(ModelConfig c, List<int[]> sequences, int maxPositions) {
        long tokens = 0;
        for (int[] ids : sequences) {
            if (tokens >= maxPositions) {
                break;
            }
            tokens += ids.length + 1;
        }
        return 2L * 4 * tokens * c.nEmbd();
    }

    public long peak() {
        return Math.max(calibration, Math.max(quality, write));
    }

    /** Refuses, with the numbers, a conversion this machine cannot hold. */
    public void check() {
        if (peak() > 0.9 * available) {
            throw new IllegalArgumentException(String.format("this conversion needs about %.1f GB at its peak (%s) and "
                    + "this machine has %.1f GB of memory; use a larger machine, or fewer calibration samples or "
                    + "--quality-positions", peak() / 1e9, phases(), available / 1e9));
        }
    }

    private String phases() {
        return String.format("calibration %.1f GB, quality report %.1f GB, writing %.1f GB", calibration / 1e9,
                quality / 1e9, write / 1e9);
    }

    @Override
    public String toString() {
        return String.format("expected peak memory %.1f GB of %.1f GB (%s)", peak() / 1e9, available / 1e9, phases());
    }
}
