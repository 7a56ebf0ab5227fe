package dev.starspec.engine.quant;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.starspec.engine.graph.GraphBuilder;
import dev.starspec.engine.graph.GraphBuilder.Attr;
import dev.starspec.engine.graph.LinearScheme;
import java.util.function.Supplier;

/**
 * Linear layers as ONNX Runtime's {@code MatMulNBits} with {@code accuracy_level=4}: block-quantized weights
 * and, inside the kernel, activations quantized to int8 per row and per block. Both quantizations look at one
 * row at a time, so a row's result does not depend on the other rows of the pass (batch invariance, which
 * exact speculative decoding needs). Level 0 (dequantize to float) was measured 2.6x (int4) to 70x (int8)
 * slower here.
 */
public final class NBitsLinear implements LinearScheme {

    static final int ACCURACY_LEVEL = 4;

    private final String name;
    private final int bits;
    private final int blockSize;
    private final boolean symmetric;
    private final boolean quantizeLmHead;

    /**
     * @param symmetric no zero points (int8 SmoothQuant) or one per block (int4 RTN)
     * @param quantizeLmHead the lm_head too (it is read every token), or float32 from the tied embedding
     */
    public NBitsLinear(String name, int bits, int blockSize, boolean symmetric, boolean quantizeLmHead) {
        this.name = name;
        this.bits = bits;
        this.blockSize = blockSize;
        this.symmetric = symmetric;
        this.quantizeLmHead = quantizeLmHead;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String linear(GraphBuilder g, String x, String layer, float[] weight, float[] bias, int out, int in) {
        return matMulNBits(g, x, layer, layer, RoundToNearest.quantize(weight, out, in, bits, blockSize, symmetric),
                bias == null ? "" : g.weight(layer + ".bias", bias, out));
    }

    @Override
    public boolean quantizesLmHead() {
        return quantizeLmHead;
    }

    @Override
    public String lmHead(GraphBuilder g, String x, String tied, Supplier<float[]> values, int vocab, int embd) {
        if (!quantizeLmHead) {
            return LinearScheme.super.lmHead(g, x, tied, values, vocab, embd);
        }
        return matMulNBits(g, x, "lm_head", "lm_head.logits",
                RoundToNearest.quantize(values.get(), vocab, embd, bits, blockSize, symmetric), "");
    }

    private String matMulNBits(GraphBuilder g, String x, String layer, String output, BlockQuantized q, String bias) {
        int uint8 = TensorProto.DataType.UINT8_VALUE;
        String data = g.weightBytes(layer + ".q", uint8, q.data(), q.n(), q.blocks(), q.blobBytes());
        String scales = g.weight(layer + ".scales", q.scales(), (long) q.n() * q.blocks());
        String zeroPoints = q.zeroPoints() == null ? ""
                : g.weightBytes(layer + ".zero_points", uint8, q.zeroPoints(), q.zeroPoints().length);
        return g.msOp("MatMulNBits", output, new String[] {x, data, scales, zeroPoints, "", bias},
                Attr.of("K", (long) q.k()), Attr.of("N", (long) q.n()), Attr.of("bits", (long) bits),
                Attr.of("block_size", (long) blockSize), Attr.of("accuracy_level", (long) ACCURACY_LEVEL));
    }
}
