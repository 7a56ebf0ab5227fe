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

    /**
     * Zeroes everything outside the top-k and the top-p nucleus (ties broken by lower id), renormalises. It runs
     * for every sampled token, so it sorts primitives, and only the likely tokens when they alone settle the cut:
     * every excluded token is less likely than every candidate, so if the candidates reach top-p (or number k)
     * the cut falls among them exactly as it would over the whole vocabulary.
     */
    private void keepNucleus(double[] p) {
        int vocab = p.length;
        int limit = sampling.topK() > 0 ? Math.min(sampling.topK(), vocab) : vocab;
        double max = 0;
        for (double v : p) {
            max = Math.max(max, v);
        }
        long[] order = candidates(p, max * 1e-6);
        double mass = 0;
        for (long key : order) {
            mass += p[index(key)];
        }
        if (order.length < limit && mass < sampling.topP()) {
            order = candidates(p, -1); // the likely tokens do not settle it: sort them all
        }
        double acc = 0;
        int keep = 0;
        while (keep < Math.min(limit, order.length)) {
            acc += p[index(order[keep])];
            keep++;
            if (acc >= sampling.topP()) {
                break;
            }
        }
        double[] kept = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            kept[i] = p[index(order[i])];
            total += kept[i];
        }
        Arrays.fill(p, 0);
        for (int i = 0; i < keep; i++) {
            p[index(order[i])] = kept[i] / total;
        }
    }

    /**
     * Tokens with probability above {@code floor}, most likely first, lower id first on ties: each a long of the
     * probability's (order-preserving, non-negative) float bits over the complemented id, sorted descending.
     */
    private static long[] candidates(double[] p, double floor) {
        int n = 0;
        for (double v : p) {
            if (v > floor) {
                n++;
            }
        }
        long[] keys = new long[n];
        int j = 0;
        for (int t = 0; t < p.length; t++) {
            if (p[t] > floor) {
                keys[j++] = ((long) Float.floatToRawIntBits((float) p[t]) << 32) | (~t & 0xffffffffL);
            }
        }
        Arrays.sort(keys);
        for (int a = 0, b = n - 1; a < b; a++, b--) {
            long tmp = keys[a];
            keys[a] = keys[b];
            keys[b] = tmp;
        }
        return keys;
    }

    private static int index(long key) {
        return ~(int) key;
    }
}
