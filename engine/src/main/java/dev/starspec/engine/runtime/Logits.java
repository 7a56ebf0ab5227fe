package dev.starspec.engine.runtime;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * The logits of the rows a forward pass was asked for, {@code [rows, vocab]}, in off-heap memory, with each
 * row's argmax (and, when asked for, its softmax probability) as the graph computed them.
 */
public final class Logits {

    private final FloatBuffer data;
    private final LongBuffer best;
    private final FloatBuffer bestProbability;
    private final int vocab;
    private int rows;
    private boolean probabilities;

    Logits(FloatBuffer data, LongBuffer best, FloatBuffer bestProbability, int vocab) {
        this.data = data;
        this.best = best;
        this.bestProbability = bestProbability;
        this.vocab = vocab;
    }

    void setRows(int rows, boolean withProbabilities) {
        this.rows = rows;
        this.probabilities = withProbabilities;
    }

    LongBuffer bestRegion(int rowCount) {
        return best.duplicate().position(0).limit(rowCount);
    }

    FloatBuffer bestProbabilityRegion(int rowCount) {
        return bestProbability.duplicate().position(0).limit(rowCount);
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
        index(row);
        return (int) best.get(row);
    }

    /** softmax's probability of {@link #argmax}; only for passes that asked for it. */
    public float maxProbability(int row) {
        index(row);
        if (!probabilities) {
            throw new IllegalStateException("this pass did not compute probabilities");
        }
        return bestProbability.get(row);
    }

    public float[] row(int row) {
        return row(row, new float[vocab]);
    }

    /** The row copied into {@code into} when it has room for it, else into a new array; returns the array used. */
    public float[] row(int row, float[] into) {
        float[] out = into.length >= vocab ? into : new float[vocab];
        data.duplicate().position(index(row)).get(out, 0, vocab);
        return out;
    }

    private int index(int row) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " of " + rows);
        }
        return row * vocab;
    }
}
