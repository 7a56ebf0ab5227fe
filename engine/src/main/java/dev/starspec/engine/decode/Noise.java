package dev.starspec.engine.decode;

/**
 * A row's random numbers, each a pure function of (seed, position, stream, token) rather than the next draw of a
 * stream. What a row samples at a position therefore depends on nothing else: not on its neighbours in the
 * batch, not on how many draws speculation spent before, not on the batch size or the draft length the
 * scheduler picked. A retried task rewrites the same bytes.
 */
final class Noise {

    /** What a draw is for: independent numbers at the same position. */
    enum Stream {
        /** The token itself (plain sampling; the coupled draft shares it). */
        TOKEN,
        /** Rejection sampling: the draft's own proposal. */
        DRAFT,
        /** Rejection sampling: the acceptance test. */
        ACCEPT,
        /** Rejection sampling: the replacement after a rejection. */
        RESIDUAL
    }

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final long seed;

    Noise(long seed) {
        this.seed = seed;
    }

    /** A uniform in (0, 1). */
    double uniform(int position, Stream stream, int token) {
        return uniform(bits(key(position, stream), token));
    }

    /** A standard Gumbel draw: argmax over x of (log p(x) + gumbel(x)) is a sample from p. */
    double gumbel(int position, Stream stream, int token) {
        return gumbel(bits(key(position, stream), token));
    }

    /** What the hash of every token's draw at (position, stream) shares: a draw over the vocabulary computes it once. */
    long key(int position, Stream stream) {
        long h = mix(seed + GOLDEN * (position + 1L));
        return mix(h + GOLDEN * (stream.ordinal() + 1L));
    }

    /** The 53 random bits of {@code token}'s draw under {@code key}. */
    static long bits(long key, int token) {
        return mix(key + token) >>> 11;
    }

    /**
     * The uniform the bits stand for, {@code (bits + 1/2) 2^-53}, rounded to a double: never 0, and 1 only for the
     * largest bits (whose Gumbel value is then infinite).
     */
    static double uniform(long bits) {
        return (bits + 0.5) * 0x1.0p-53;
    }

    /**
     * {@code 1 - uniform(bits)} of the rounded uniform, exactly (Sterbenz: u >= 1/2) or within half an ulp of a
     * number >= 1/2: the same number the Gumbel value is computed from, so a test on it agrees with that value.
     */
    static double complement(long bits) {
        return 1.0 - uniform(bits);
    }

    static double gumbel(long bits) {
        return -Math.log(-Math.log(uniform(bits)));
    }

    /** SplitMix64's finaliser: every input bit reaches every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
