package dev.starspec.engine.quant;

import java.util.stream.IntStream;

/**
 * Round-to-nearest block quantization of a weight matrix, no calibration: each block of {@code blockSize}
 * consecutive input channels of one output row gets its own scale (and zero point when asymmetric).
 *
 * <ul>
 *   <li>asymmetric (int4): the block's range [min(min, 0), max(max, 0)] maps onto 0..2^bits-1, so 0 stays
 *       exactly representable; zp = round(-min / scale)
 *   <li>symmetric (int8): scale = max|w| / (2^(bits-1) - 1), stored with the default zero point 2^(bits-1)
 * </ul>
 */
public final class RoundToNearest {

    private RoundToNearest() {}

    public static BlockQuantized quantize(float[] w, int n, int k, int bits, int blockSize, boolean symmetric) {
        if (bits != 4 && bits != 8) {
            throw new IllegalArgumentException("bits must be 4 or 8, got " + bits);
        }
        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize * bits / 8;
        byte[] data = new byte[Math.toIntExact((long) n * blocks * blob)];
        float[] scales = new float[n * blocks];
        int zpPerRow = bits == 4 ? (blocks + 1) / 2 : blocks;
        byte[] zeroPoints = symmetric ? null : new byte[n * zpPerRow];
        int maxQ = (1 << bits) - 1;
        IntStream.range(0, n).parallel().forEach(row -> {
            for (int block = 0; block < blocks; block++) {
                int from = block * blockSize;
                int to = Math.min(k, from + blockSize);
                float scale;
                int zp;
                if (symmetric) {
                    float amax = 0;
                    for (int c = from; c < to; c++) {
                        amax = Math.max(amax, Math.abs(w[row * k + c]));
                    }
                    int half = (1 << (bits - 1)) - 1;
                    scale = amax == 0 ? 1f : amax / half;
                    zp = 1 << (bits - 1);
                } else {
                    float min = 0;
                    float max = 0;
                    for (int c = from; c < to; c++) {
                        min = Math.min(min, w[row * k + c]);
                        max = Math.max(max, w[row * k + c]);
                    }
                    scale = max == min ? 1f : (max - min) / maxQ;
                    zp = Math.max(0, Math.min(maxQ, Math.round(-min / scale)));
                }
                scales[row * blocks + block] = scale;
                long base = ((long) row * blocks + block) * blob;
                for (int j = 0; j < blockSize; j++) {
                    int c = from + j;
                    int q = c < to ? Math.max(0, Math.min(maxQ, Math.round(w[row * k + c] / scale) + zp)) : zp;
                    BlockQuantized.put(data, base, j, q, bits);
                }
                if (zeroPoints != null) {
                    BlockQuantized.put(zeroPoints, (long) row * zpPerRow, block, zp, bits);
                }
            }
        });
        return new BlockQuantized(bits, blockSize, n, k, data, scales, zeroPoints);
    }
}
