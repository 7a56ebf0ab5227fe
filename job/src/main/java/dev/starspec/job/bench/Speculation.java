package dev.starspec.job.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.runtime.CostCurve;

/**
 * Speculative decoding measured against two predictions. The analytical model (Leviathan et al. 2023) takes every
 * pass to cost the same: with per-token acceptance a, draft/target cost ratio c and K proposals, a pass yields
 * {@code (1 - a^(K+1)) / (1 - a)} tokens for the price of {@code 1 + cK} target passes. The measured-cost
 * prediction prices each step as it ran: one target pass over the window actually verified, {@code t_T(n + 1)},
 * plus the draft passes actually made, {@code d t_D(1)}, from the curves measured on this machine, against the
 * tokens each step actually yielded; what the decode loop spends beyond that is the gap between it and the
 * measurement. Only the curve's shape is used, t(M) / t(1): the pass costs themselves come from this run (the target's
 * TPOT, and c), because a shared machine's speed drifts between runs more than the curve bends.
 *
 * <p>a is fitted to the measured tokens per pass (solving the expression above), the estimate consistent with the
 * model; accepted/proposed is shown too, but it undercounts a (proposals after a rejection are never tried).
 *
 * @param targetCost the target's pass costs, for the shape of t(M)
 */
public record Speculation(int k, double targetTpotMs, double draftTpotMs, BenchResult measured, CostCurve targetCost) {

    public double c() {
        return draftTpotMs / targetTpotMs;
    }

    public double speedup() {
        return targetTpotMs / measured.tpotMs();
    }

    /** The a with (1 - a^(K+1)) / (1 - a) = tokens per pass, by bisection (the left side grows with a). */
    public double fittedAcceptance() {
        double tau = Math.min(measured.tokensPerPass(), k + 1 - 1e-9);
        double lo = 0;
        double hi = 1;
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            if (tokensPerPass(mid, k) < tau) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    static double tokensPerPass(double a, int k) {
        return a >= 1 ? k + 1 : (1 - Math.pow(a, k + 1)) / (1 - a);
    }

    public static double predictedSpeedup(double a, double c, int k) {
        return tokensPerPass(a, k) / (1 + c * k);
    }

    /** The analytical model's speedup, at the fitted a and equal pass costs. */
    public double predicted() {
        return predictedSpeedup(fittedAcceptance(), c(), k);
    }

    /**
     * The speedup the measured pass costs predict for the steps as they ran, in units of a one-token target pass: a
     * step costs {@code t_T(n + 1) / t_T(1)} for the target's pass plus {@code d c} for the draft's d passes.
     */
    public double predictedFromCosts() {
        double step = interpolated(targetCost, measured.proposalsPerPass() + 1) / targetCost.passMs(1)
                + measured.draftPassesPerPass() * c();
        return measured.tokensPerPass() / step;
    }

    /** t(M) at a fractional M (a mean window), between the integers around it. */
    static double interpolated(CostCurve c, double m) {
        int lo = (int) Math.floor(m);
        double f = m - lo;
        return (1 - f) * c.passMs(lo) + f * c.passMs(lo + 1);
    }

    public static final String HEADER = String.format("%4s %9s %8s %11s %7s %11s %8s %8s %10s %11s %13s",
            "K", "TPOT ms", "speedup", "acc/prop", "a", "tokens/pass", "window", "drafts", "predicted", "pred.(t(M))",
            "meas./pred.");

    public String row() {
        return String.format("%4d %9.2f %7.2fx %10.1f%% %7.3f %11.2f %8.2f %8.2f %9.2fx %10.2fx %12.0f%%", k,
                measured.tpotMs(), speedup(), 100 * measured.acceptance(), fittedAcceptance(), measured.tokensPerPass(),
                measured.proposalsPerPass() + 1, measured.draftPassesPerPass(), predicted(), predictedFromCosts(),
                100 * speedup() / predictedFromCosts());
    }

    public ObjectNode json() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("target", measured.model());
        n.put("draft", measured.draft());
        n.put("k", k);
        n.put("tpot_ms", measured.tpotMs());
        n.put("target_tpot_ms", targetTpotMs);
        n.put("draft_tpot_ms", draftTpotMs);
        n.put("c", c());
        n.put("speedup", speedup());
        n.put("accepted_over_proposed", measured.acceptance());
        n.put("tokens_per_target_pass", measured.tokensPerPass());
        n.put("mean_window", measured.proposalsPerPass() + 1);
        n.put("draft_passes_per_target_pass", measured.draftPassesPerPass());
        n.put("a", fittedAcceptance());
        n.put("predicted_speedup_equal_costs", predicted());
        n.put("predicted_speedup_measured_costs", predictedFromCosts());
        n.put("measured_over_predicted", speedup() / predictedFromCosts());
        n.put("ttft_ms", measured.ttftMs());
        return n;
    }
}
