package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Logits;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses tokens from logits: argmax when greedy, otherwise a draw from the tempered, top-k / top-p filtered
 * softmax. The filtered distribution itself is exposed because speculative sampling compares the target's and
 * the draft's.
 */
public final class TokenSampler {

    private final Sampling sampling;
    private final SplittableRandom random;

    public TokenSampler(Sampling sampling) {
        this.sampling = sampling;
        this.random = new SplittableRandom(sampling.seed());
    }

    public boolean greedy() {
        return sampling.greedy();
    }

    public int next(Logits logits, int row) {
        return greedy() ? logits.argmax(row) : draw(distribution(logits, row));
    }

    /** A uniform draw in [0, 1) from this generation's stream. */
    public double uniform() {
        return random.nextDouble();
    }

    /** Draws an index with the given probabilities (which sum to 1 up to rounding). */
    public int draw(double[] p) {
        double u = random.nextDouble();
        double acc = 0;
        int lastPositive = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                acc += p[i];
                lastPositive = i;
                if (u < acc) {
                    return i;
                }
            }
        }
        return lastPositive; // u fell in the rounding gap at the top
    }

    /** softmax(logits / T), then top-k, then top-p, renormalised. For greedy: all mass on the argmax. */
    public double[] distribution(Logits logits, int row) {
        int vocab = logits.vocab();
        double[] p = new double[vocab];
        if (greedy()) {
            p[logits.argmax(row)] = 1;
            return p;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < vocab; t++) {
            max = Math.max(max, logits.get(row, t));
        }
        double sum = 0;
        for (int t = 0; t < vocab; t++) {
            p[t] = Math.exp((logits.get(row, t) - max) / sampling.temperature());
            sum += p[t];
        }
        for (int t = 0; t < vocab; t++) {
            p[t] /= sum;
        }
        if (sampling.topK() > 0 && sampling.topK() < vocab || sampling.topP() < 1) {
            keepNucleus(p);
        }
        return p;
    }

    /** Zeroes everything outside the top-k and the top-p nucleus (ties broken by lower id), renormalises. */
    private void keepNucleus(double[] p) {
        int vocab = p.length;
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int limit = sampling.topK() > 0 ? Math.min(sampling.topK(), vocab) : vocab;
        double acc = 0;
        int keep = 0;
        while (keep < limit) {
            acc += p[order[keep]];
            keep++;
            if (acc >= sampling.topP()) {
                break;
            }
        }
        double kept = 0;
        for (int i = 0; i < vocab; i++) {
            if (i < keep) {
                kept += p[order[i]];
            } else {
                p[order[i]] = 0;
            }
        }
        for (int i = 0; i < keep; i++) {
            p[order[i]] /= kept;
        }
    }
}
