package dev.starspec.engine.graph;

/** The float32 baseline: a MatMul with the weight stored pre-transposed as {@code [in, out]}, plus the bias. */
public final class FloatLinear implements LinearScheme {

    @Override
    public String name() {
        return "fp32";
    }

    @Override
    public String linear(GraphBuilder g, String x, String name, float[] weight, float[] bias, int out, int in) {
        String w = g.weight(name + ".weight", transpose(weight, out, in), in, out);
        String y = g.op("MatMul", name + ".matmul", new String[] {x, w});
        if (bias == null) {
            return y;
        }
        return g.op("Add", name, new String[] {y, g.weight(name + ".bias", bias, out)});
    }

    /** Row-major {@code [rows, cols]} to {@code [cols, rows]}, in tiles so that large matrices stay cache-friendly. */
    static float[] transpose(float[] m, int rows, int cols) {
        final int tile = 64;
        float[] t = new float[m.length];
        for (int r0 = 0; r0 < rows; r0 += tile) {
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int r1 = Math.min(rows, r0 + tile);
                int c1 = Math.min(cols, c0 + tile);
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        t[c * rows + r] = m[r * cols + c];
                    }
                }
            }
        }
        return t;
    }
}
