package dev.starspec.engine.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.starspec.engine.graph.ExternalData;
import dev.starspec.engine.graph.GraphBuilder;
import dev.starspec.engine.testing.DirectSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ONNX Runtime's MatMulNBits at accuracy level 4 computes what we think it computes: the dequantized weights
 * times the activations quantized to int8 per row and block (scale max|a|/127, round half to even).
 */
class MatMulNBitsKernelTest {

    @ParameterizedTest(name = "{0}-bit, block {1}, symmetric {2}")
    @CsvSource({"4, 32, false", "4, 128, false", "8, 32, true", "8, 128, true", "8, 256, true"})
    void ortMatchesJavaReferenceWithTheSameQuantization(int bits, int block, boolean symmetric, @TempDir Path tmp)
            throws IOException {
        int m = 3;
        int k = 320;
        int n = 48;
        Random r = new Random(bits * 31 + block);
        float[] w = gaussian(r, n * k, 0.05f);
        float[] bias = gaussian(r, n, 0.1f);
        float[] x = gaussian(r, m * k, 1f);
        x[5] = 9f; // an outlier channel, as real activations have

        NBitsLinear scheme = new NBitsLinear("test", bits, block, symmetric, false);
        try (ExternalData data = new ExternalData(tmp.resolve("model.onnx.data"))) {
            GraphBuilder g = new GraphBuilder(data);
            g.input("x", TensorProto.DataType.FLOAT_VALUE, m, k);
            String y = scheme.linear(g, "x", "layer", w, bias, n, k);
            g.output(y, TensorProto.DataType.FLOAT_VALUE, m, n);
            OnnxMl.ModelProto proto = g.build("test", Map.of());
            try (OutputStream os = Files.newOutputStream(tmp.resolve("model.onnx"))) {
                proto.writeTo(os);
            }
        }
        float[] got = DirectSession.run(tmp.resolve("model.onnx"), Map.of("x", x), Map.of("x", new long[] {m, k}), "layer");

        float[] deq = RoundToNearest.quantize(w, n, k, bits, block, symmetric).dequantize();
        float[] xq = quantizeActivations(x, m, k, block);
        double scale = 0;
        double worst = 0;
        for (int row = 0; row < m; row++) {
            for (int o = 0; o < n; o++) {
                double s = bias[o];
                for (int i = 0; i < k; i++) {
                    s += (double) xq[row * k + i] * deq[o * k + i];
                }
                scale = Math.max(scale, Math.abs(s));
                worst = Math.max(worst, Math.abs(s - got[row * n + o]));
            }
        }
        assertTrue(worst < 1e-4 * scale, "max |diff| " + worst + " at scale " + scale);
    }

    /** What MLAS does to A at accuracy level 4: per row and block, q = rint(a * 127/amax), back as q * amax/127. */
    static float[] quantizeActivations(float[] x, int m, int k, int block) {
        float[] out = new float[x.length];
        for (int row = 0; row < m; row++) {
            for (int from = 0; from < k; from += block) {
                int to = Math.min(k, from + block);
                float amax = 0;
                for (int i = from; i < to; i++) {
                    amax = Math.max(amax, Math.abs(x[row * k + i]));
                }
                float inv = amax != 0f ? 127f / amax : 0f;
                float scale = amax / 127f;
                for (int i = from; i < to; i++) {
                    out[row * k + i] = (float) Math.rint(x[row * k + i] * inv) * scale;
                }
            }
        }
        return out;
    }

    private static float[] gaussian(Random r, int count, float std) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) r.nextGaussian() * std;
        }
        return a;
    }
}
