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
    /** The largest Gumbel value a draw can take: -log(-log(1 - 2^-54)). */
    static final double MAX_GUMBEL = -Math.log(-Math.log1p(-0x1.0p-54));

    private final long seed;

    Noise(long seed) {
        this.seed = seed;
    }

    /** A uniform in (0, 1). */
    double uniform(int position, Stream stream, int token) {
        long h = mix(seed + GOLDEN * (position + 1L));
        h = mix(h + GOLDEN * (stream.ordinal() + 1L));
        h = mix(h + token);
        return ((h >>> 11) + 0.5) * 0x1.0p-53;
    }

    /** A standard Gumbel draw: argmax over x of (log p(x) + gumbel(x)) is a sample from p. */
    double gumbel(int position, Stream stream, int token) {
        return -Math.log(-Math.log(uniform(position, stream, token)));
    }

    /** SplitMix64's finaliser: every input bit reaches every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
