package dev.starspec.engine.decode;

/**
 * How many tokens the draft proposes per verification pass.
 *
 * @param max K: the most proposals per row and pass (the fixed length when not adaptive)
 * @param adaptive choose each row's length every step, from the measured cost of target and draft passes at the
 *     batch's token counts and the row's running acceptance (see {@link DraftPlanner}); otherwise always K
 * @param pMin stop a run of proposals early when the draft's own probability of its token falls below this
 *     (0 = never); a cheap confidence signal that saves target work on runs that would be rejected
 */
public record DraftLength(int max, boolean adaptive, double pMin) implements java.io.Serializable {

    public DraftLength {
        if (max < 1) {
            throw new IllegalArgumentException("draft tokens must be at least 1, got " + max);
        }
        if (!(pMin >= 0 && pMin < 1)) {
            throw new IllegalArgumentException("draft p-min must lie in [0, 1), got " + pMin);
        }
    }

    public static DraftLength fixed(int k) {
        return new DraftLength(k, false, 0);
    }

    public static DraftLength adaptive(int max) {
        return new DraftLength(max, true, 0);
    }
}
