package dev.starspec.engine.runtime;

import java.nio.FloatBuffer;

/** The logits of the rows a forward pass was asked for, {@code [rows, vocab]}, in off-heap memory. */
public final class Logits {

    private final FloatBuffer data;
    private final int vocab;
    private int rows;

    Logits(FloatBuffer data, int vocab) {
        this.data = data;
        this.vocab = vocab;
    }

    void setRows(int rows) {
        this.rows = rows;
    }

    FloatBuffer region(int rowCount) {
        return data.duplicate().position(0).limit(rowCount * vocab);
    }

    int capacityRows() {
        return data.capacity() / vocab;
    }

    public int rows() {
        return rows;
    }

    public int vocab() {
        return vocab;
    }

    public float get(int row, int token) {
        return data.get(index(row) + token);
    }

    /** The highest-scoring token; the lowest id wins a tie, as in numpy and PyTorch. */
    public int argmax(int row) {
        int base = index(row);
        int best = 0;
        float bestValue = data.get(base);
        for (int t = 1; t < vocab; t++) {
            float v = data.get(base + t);
            if (v > bestValue) {
                bestValue = v;
                best = t;
            }
        }
        return best;
    }

    public float[] row(int row) {
        float[] out = new float[vocab];
        data.duplicate().position(index(row)).get(out);
        return out;
    }

    private int index(int row) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " of " + rows);
        }
        return row * vocab;
    }
}
