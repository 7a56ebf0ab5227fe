package dev.starspec.engine.decode;

/**
 * How many tokens the draft proposes per verification pass.
 *
 * @param max K: the most proposals per pass (the fixed length when not adaptive)
 * @param adaptive adjust K from the running acceptance: after a pass that accepted everything, propose one more
 *     next time (up to max); after one that accepted less than half, one fewer (down to 1)
 * @param pMin stop a run of proposals early when the draft's own probability of its token falls below this
 *     (0 = never); a cheap confidence signal that saves target work on runs that would be rejected
 */
public record DraftLength(int max, boolean adaptive, double pMin) {

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

    State start() {
        return new State();
    }

    /** The current K of one generation. */
    final class State {
        private int current = max;

        int current() {
            return current;
        }

        void update(int accepted, int proposed) {
            if (!adaptive || proposed == 0) {
                return;
            }
            if (accepted == proposed) {
                current = Math.min(max, current + 1);
            } else if (2 * accepted < proposed) {
                current = Math.max(1, current - 1);
            }
        }
    }
}
