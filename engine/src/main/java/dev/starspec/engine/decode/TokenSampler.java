package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Logits;
import java.util.Arrays;

/**
 * Chooses a row's tokens from logits: argmax when greedy, otherwise a draw from the tempered, top-k / top-p
 * filtered softmax. Draws are Gumbel-max over position-keyed {@link Noise}: the token at completion position i
 * is {@code argmax_x log p(x) + g(i, x)}, a pure function of the row's seed, i and p. The filtered distribution
 * itself is exposed because speculative sampling compares the target's and the draft's.
 */
final class TokenSampler {

    private static final double LN2 = Math.log(2);
    /** Binary exponents a probability can have, 0 down to -1023 (subnormals). */
    private static final int EXPONENTS = 2 - Double.MIN_EXPONENT;

    private final Sampling sampling;
    private final Noise noise;
    /**
     * {@link #draw}'s thresholds on {@code 1 - u} by minus p's binary exponent; current while stamped {@code drawBest}.
     * Greedy rows never draw and go without (16 KB per row).
     */
    private final double[] thresholds;
    private final long[] thresholdStamp;
    /** Counts the best values draws have held: each new one makes every threshold stale. */
    private long drawBest;
    /** {@link #distribution}'s copy of a logits row. */
    private float[] scratch = new float[0];

    TokenSampler(Sampling sampling) {
        this.sampling = sampling;
        this.noise = new Noise(sampling.seed());
        this.thresholds = sampling.greedy() ? null : new double[EXPONENTS];
        this.thresholdStamp = sampling.greedy() ? null : new long[EXPONENTS];
    }

    boolean greedy() {
        return sampling.greedy();
    }

    /** The token at completion position {@code position}, from logits row {@code row}. */
    int next(Logits logits, int row, int position) {
        return greedy() ? logits.argmax(row) : draw(distribution(logits, row), position, Noise.Stream.TOKEN);
    }

    /** A uniform draw in (0, 1) for {@code position}. */
    double uniform(int position, Noise.Stream stream) {
        return noise.uniform(position, stream, -1);
    }

    /**
     * Draws an index with the given probabilities: {@code argmax_x log p[x] + g(position, stream, x)} over the
     * x with {@code p[x] > 0}, the lower index on a tie.
     *
     * <p>Evaluated exactly only for the tokens that could still win. Token x beats the best value b so far only if
     * its Gumbel value exceeds {@code b - log p[x]}, that is only if {@code 1 - u(x)} is below
     * {@code W = 1 - exp(-exp(-(b - log p[x])))}. The test uses {@code log p[x] < (e + 1) ln 2} for p's binary
     * exponent e, so W depends on e alone until b changes, and costs one hash and one comparison per token instead
     * of three logarithms. The thresholds are loosened by far more than any rounding error, so a skipped token
     * could not have won: the draw equals the exhaustive argmax.
     */
    int draw(double[] p, int position, Noise.Stream stream) {
        long key = noise.key(position, stream);
        int first = 0;
        for (int x = 1; x < p.length; x++) {
            if (p[x] > p[first]) {
                first = x;
            }
        }
        int best = first;
        double bestValue = Math.log(p[first]) + Noise.gumbel(Noise.bits(key, first));
        drawBest++;
        for (int x = 0; x < p.length; x++) {
            if (p[x] <= 0 || x == first) {
                continue;
            }
            int e = Math.getExponent(p[x]); // p[x] < 2^(e + 1); subnormals report -1023, also an upper bound
            long bits = Noise.bits(key, x);
            if (Noise.complement(bits) > threshold(e, bestValue)) {
                continue;
            }
            double v = Math.log(p[x]) + Noise.gumbel(bits);
            if (v > bestValue || v == bestValue && x < best) {
                best = x;
                bestValue = v;
                drawBest++;
            }
        }
        return best;
    }

    /**
     * W for tokens with binary exponent e against best value b, loosened by 1e-6 in the log domain and in W;
     * infinite (never skip) for an exponent no probability has, as of p > 1 from rounding.
     */
    private double threshold(int e, double best) {
        int i = -e;
        if (i < 0) {
            return Double.POSITIVE_INFINITY;
        }
        if (thresholdStamp[i] != drawBest) {
            double d = best - (e + 1) * LN2 - 1e-6;
            thresholds[i] = -Math.expm1(-Math.exp(-d)) * (1 + 1e-6);
            thresholdStamp[i] = drawBest;
        }
        return thresholds[i];
    }

    /** softmax(logits / T), then top-k, then top-p, renormalised. For greedy: all mass on the argmax. */
    double[] distribution(Logits logits, int row) {
        int vocab = logits.vocab();
        double[] p = new double[vocab];
        if (greedy()) {
            p[logits.argmax(row)] = 1;
            return p;
        }
        float[] l = scratch = logits.row(row, scratch);
        double max = l[logits.argmax(row)]; // the graph's argmax: no pass over the vocabulary for it
        double temperature = sampling.temperature();
        double sum = 0;
        for (int t = 0; t < vocab; t++) {
            p[t] = Math.exp((l[t] - max) / temperature);
            sum += p[t];
        }
        if (!(sum < Double.POSITIVE_INFINITY)) { // NaN or infinite logits: nothing sensible to sample from
            throw new IllegalStateException("the model's logits are not finite (NaN or infinity) at this position");
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
