package dev.starspec.engine.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The MatMulNBits layout: packing is lossless, and round-to-nearest stays within half a step. */
class BlockQuantizedTest {

    @ParameterizedTest(name = "{0} bits, block {1}, k {2}, zero points {3}")
    @CsvSource({"4, 32, 80, true", "4, 128, 256, true", "4, 16, 50, false", "8, 32, 80, true", "8, 128, 300, false"})
    void unpackOfPackIsIdentity(int bits, int block, int k, boolean withZeroPoints) {
        Random r = new Random(bits * 1000 + k);
        int n = 7;
        int blocks = (k + block - 1) / block;
        int[] q = r.ints(n * k, 0, 1 << bits).toArray();
        int[] zp = withZeroPoints ? r.ints(n * blocks, 0, 1 << bits).toArray() : null;
        float[] scales = new float[n * blocks];
        BlockQuantized packed = BlockQuantized.pack(bits, block, n, k, q, scales, zp);
        assertEquals(n * blocks * block * bits / 8, packed.data().length);
        for (int row = 0; row < n; row++) {
            for (int col = 0; col < k; col++) {
                assertEquals(q[row * k + col], packed.q(row, col), "q at " + row + "," + col);
            }
            for (int b = 0; b < blocks; b++) {
                assertEquals(withZeroPoints ? zp[row * blocks + b] : 1 << (bits - 1), packed.zeroPoint(row, b));
            }
        }
    }

    @ParameterizedTest(name = "{0} bits symmetric {1}")
    @CsvSource({"4, false", "8, true", "8, false"})
    void roundToNearestErrIsAtMostHalfAStep(int bits, boolean symmetric) {
        Random r = new Random(9);
        int n = 5;
        int k = 200;
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.05 + (i % 37 == 0 ? 0.4 : 0));
        }
        BlockQuantized q = RoundToNearest.quantize(w, n, k, bits, 64, symmetric);
        float[] back = q.dequantize();
        for (int row = 0; row < n; row++) {
            for (int col = 0; col < k; col++) {
                float step = q.scale(row, col / 64);
                assertTrue(Math.abs(w[row * k + col] - back[row * k + col]) <= step / 2 * 1.0001f,
                        "element " + row + "," + col);
            }
        }
    }
}
