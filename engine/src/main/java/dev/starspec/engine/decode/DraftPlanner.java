package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.CostCurve;
import java.util.List;

/**
 * Chooses each decoding row's draft length for one step, jointly for the whole batch: batching and speculation
 * compete for the same spare compute, so the right length depends on how many rows share the pass.
 *
 * <p>With per-token acceptance a, a row proposing k tokens gets {@code E(k) = 1 + a + ... + a^k} tokens from the
 * verification pass (the accepted run plus the target's own). A step costs one target pass over all windows,
 * {@code t_T(sum of (k_i + 1))}, plus the draft's passes: the first over every row's catch-up tokens, then pass j
 * over the rows still proposing ({@code k_i > j}). The plan maximises expected tokens per millisecond, from the
 * measured cost curves of both models: starting from the best uniform length, it moves one row's length up or
 * down while that improves the ratio.
 *
 * <p>Each row's a is its running acceptance shrunk towards the batch's, planned one standard error optimistic:
 * a row that has been tested little is given the benefit of the doubt, so a bad start (one rejection, say) does
 * not stop speculation for good, while a row that keeps failing soon stops drafting.
 */
final class DraftPlanner {

    /** Pseudo-trials of the batch-wide acceptance that a row's own estimate starts from. */
    static final double PRIOR_WEIGHT = 4;
    /** No estimate ever reaches 1: a row that accepted everything so far may still miss. */
    static final double MAX_ACCEPTANCE = 0.98;

    private final DraftLength length;
    private final CostCurve target;
    private final CostCurve draft;

    /** @param target, draft the models' pass costs; null for a fixed length (nothing to weigh) */
    DraftPlanner(DraftLength length, CostCurve target, CostCurve draft) {
        this.length = length;
        this.target = target;
        this.draft = draft;
    }

    /** Sets {@code k} of every row: how many proposals to ask of the drafter this step. */
    void plan(List<? extends Row<?>> rows, Drafter drafter, double batchAcceptance) {
        int b = rows.size();
        int[] room = new int[b];
        double[] a = new double[b];
        int catchUp = 0;
        for (int i = 0; i < b; i++) {
            Row<?> r = rows.get(i);
            // Never propose past max new tokens: a pass yields at most k + 1 tokens.
            room[i] = Math.max(0, Math.min(Math.min(length.max(), r.out.remaining() - 1), drafter.room(r)));
            double mean = r.acceptance(batchAcceptance, PRIOR_WEIGHT);
            double trials = r.tested + PRIOR_WEIGHT;
            a[i] = Math.min(MAX_ACCEPTANCE, mean + Math.sqrt(mean * (1 - mean) / trials));
            catchUp += drafter.behind(r);
        }
        int[] k = length.adaptive() ? best(room, a, catchUp) : room;
        for (int i = 0; i < b; i++) {
            rows.get(i).k = k[i];
        }
    }

    /**
     * Whether drafting is worth its keep for a batch of {@code rows} decoding rows at the batch's acceptance: false
     * when even the best common draft length would lose tokens per millisecond (the draft's own passes cost more
     * than the target saves), and the draft need not even take in new rows' prompts.
     */
    boolean draftingPays(int rows, double batchAcceptance) {
        if (!length.adaptive()) {
            return true;
        }
        double mean = Math.min(MAX_ACCEPTANCE, batchAcceptance);
        double a = Math.min(MAX_ACCEPTANCE, mean + Math.sqrt(mean * (1 - mean) / PRIOR_WEIGHT));
        double[] as = new double[rows];
        java.util.Arrays.fill(as, a);
        int[] none = new int[rows];
        double plain = rate(none, as, rows);
        for (int k = 1; k <= length.max(); k++) {
            int[] ks = new int[rows];
            java.util.Arrays.fill(ks, k);
            if (rate(ks, as, rows) > plain) {
                return true;
            }
        }
        return false;
    }

    int[] best(int[] room, double[] a, int catchUp) {
        int b = room.length;
        int[] k = new int[b];
        double bestRate = rate(k, a, catchUp);
        for (int uniform = 1; uniform <= length.max(); uniform++) {
            int[] u = new int[b];
            for (int i = 0; i < b; i++) {
                u[i] = Math.min(uniform, room[i]);
            }
            double r = rate(u, a, catchUp);
            if (r > bestRate) {
                bestRate = r;
                k = u;
            }
        }
        // Local search: one row one step up or down, while some move pays.
        for (int moves = 0; moves < 4 * b * length.max(); moves++) {
            int bestRow = -1;
            int bestDelta = 0;
            for (int i = 0; i < b; i++) {
                for (int delta = -1; delta <= 1; delta += 2) {
                    int ki = k[i] + delta;
                    if (ki < 0 || ki > room[i]) {
                        continue;
                    }
                    k[i] = ki;
                    double r = rate(k, a, catchUp);
                    k[i] -= delta;
                    if (r > bestRate * (1 + 1e-9)) {
                        bestRate = r;
                        bestRow = i;
                        bestDelta = delta;
                    }
                }
            }
            if (bestRow < 0) {
                break;
            }
            k[bestRow] += bestDelta;
        }
        return k;
    }

    /** Expected tokens per millisecond of a step with these draft lengths. */
    double rate(int[] k, double[] a, int catchUp) {
        double tokens = 0;
        int window = 0;
        int longest = 0;
        for (int i = 0; i < k.length; i++) {
            tokens += expectedTokens(a[i], k[i]);
            window += k[i] + 1;
            longest = Math.max(longest, k[i]);
        }
        double ms = target.passMs(window);
        if (longest > 0) {
            ms += draft.passMs(catchUp);
            for (int j = 1; j < longest; j++) {
                int proposing = 0;
                for (int ki : k) {
                    if (ki > j) {
                        proposing++;
                    }
                }
                ms += draft.passMs(proposing);
            }
        }
        return tokens / ms;
    }

    /** {@code 1 + a + ... + a^k}: the accepted run's expected length plus the target's own token. */
    static double expectedTokens(double a, int k) {
        return a >= 1 ? k + 1 : (1 - Math.pow(a, k + 1)) / (1 - a);
    }
}
