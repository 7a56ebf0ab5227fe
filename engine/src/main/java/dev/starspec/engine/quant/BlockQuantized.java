package dev.starspec.engine.quant;

/**
 * A weight matrix {@code [n, k]} (Hugging Face's {@code [out, in]}) quantized in blocks of {@code blockSize}
 * along k, laid out as ONNX Runtime's {@code MatMulNBits} reads it:
 *
 * <pre>
 * data         uint8 [n, blocks, blockSize * bits / 8]  4-bit: element 2i in the low nibble, 2i+1 in the high
 * scales       float [n * blocks]
 * zeroPoints   uint8 4-bit: [n * ceil(blocks / 2)], block 2i in the low nibble;  8-bit: [n * blocks];
 *              null = the symmetric default 2^(bits-1)
 * value        (q - zeroPoint) * scale
 * </pre>
 *
 * A last, partial block is padded with the zero point, so the padding dequantizes to exactly 0.
 */
public record BlockQuantized(int bits, int blockSize, int n, int k, byte[] data, float[] scales, byte[] zeroPoints) {

    public int blocks() {
        return (k + blockSize - 1) / blockSize;
    }

    public int blobBytes() {
        return blockSize * bits / 8;
    }

    public int zeroPointBytesPerRow() {
        return bits == 4 ? (blocks() + 1) / 2 : blocks();
    }

    /** The stored integer of element (row, col), before subtracting the zero point. */
    public int q(int row, int col) {
        int block = col / blockSize;
        int j = col % blockSize;
        long base = ((long) row * blocks() + block) * blobBytes();
        if (bits == 8) {
            return data[(int) (base + j)] & 0xff;
        }
        int b = data[(int) (base + j / 2)] & 0xff;
        return (j & 1) == 0 ? b & 0x0f : b >>> 4;
    }

    public int zeroPoint(int row, int block) {
        if (zeroPoints == null) {
            return 1 << (bits - 1);
        }
        if (bits == 8) {
            return zeroPoints[row * blocks() + block] & 0xff;
        }
        int b = zeroPoints[row * zeroPointBytesPerRow() + block / 2] & 0xff;
        return (block & 1) == 0 ? b & 0x0f : b >>> 4;
    }

    public float scale(int row, int block) {
        return scales[row * blocks() + block];
    }

    /** The float matrix the kernel multiplies by, {@code [n, k]}. */
    public float[] dequantize() {
        float[] w = new float[n * k];
        for (int row = 0; row < n; row++) {
            for (int col = 0; col < k; col++) {
                int block = col / blockSize;
                w[row * k + col] = (q(row, col) - zeroPoint(row, block)) * scale(row, block);
            }
        }
        return w;
    }

    /**
     * Packs integer values {@code q[n][k]} (row-major, each in 0..2^bits-1) and per-block zero points
     * {@code zp[n][blocks]} (or null for the symmetric default) into this layout.
     */
    public static BlockQuantized pack(int bits, int blockSize, int n, int k, int[] q, float[] scales, int[] zp) {
        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize * bits / 8;
        int zpPerRow = bits == 4 ? (blocks + 1) / 2 : blocks;
        byte[] data = new byte[Math.toIntExact((long) n * blocks * blob)];
        byte[] zeroPoints = zp == null ? null : new byte[n * zpPerRow];
        for (int row = 0; row < n; row++) {
            for (int block = 0; block < blocks; block++) {
                int pad = zp == null ? 1 << (bits - 1) : zp[row * blocks + block];
                long base = ((long) row * blocks + block) * blob;
                for (int j = 0; j < blockSize; j++) {
                    int col = block * blockSize + j;
                    put(data, base, j, col < k ? q[row * k + col] : pad, bits);
                }
                if (zeroPoints != null) {
                    put(zeroPoints, (long) row * zpPerRow, block, zp[row * blocks + block], bits);
                }
            }
        }
        return new BlockQuantized(bits, blockSize, n, k, data, scales, zeroPoints);
    }

    /** Stores value number {@code index} of a packed run starting at byte {@code base}. */
    static void put(byte[] packed, long base, int index, int value, int bits) {
        if (bits == 8) {
            packed[(int) (base + index)] = (byte) value;
            return;
        }
        int at = (int) (base + index / 2);
        packed[at] = (byte) ((index & 1) == 0 ? (packed[at] & 0xf0) | value : (packed[at] & 0x0f) | (value << 4));
    }

    /** Bytes the kernel reads per use: packed data, scales and zero points. */
    public long bytes() {
        return data.length + 4L * scales.length + (zeroPoints == null ? 0 : zeroPoints.length);
    }
}
