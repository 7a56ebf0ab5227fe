package dev.starspec.job.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Speculative decoding measured against its analytical model (Leviathan et al. 2023): with per-token acceptance a,
 * draft/target cost ratio c and K proposals, a pass yields {@code (1 - a^(K+1)) / (1 - a)} tokens for the price of
 * {@code 1 + cK} target passes, so the expected speedup is {@code (1 - a^(K+1)) / ((1 - a)(1 + cK))}.
 *
 * <p>a is fitted to the measured tokens per pass (solving the expression above), the estimate consistent with the
 * model; accepted/proposed is shown too, but it undercounts a (proposals after a rejection are never tried).
 */
public record Speculation(int k, double targetTpotMs, double draftTpotMs, BenchResult measured) {

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

    public double predicted() {
        return predictedSpeedup(fittedAcceptance(), c(), k);
    }

    public static final String HEADER = String.format("%4s %9s %8s %11s %7s %11s %10s %13s",
            "K", "TPOT ms", "speedup", "acc/prop", "a", "tokens/pass", "predicted", "meas./pred.");

    public String row() {
        return String.format("%4d %9.2f %7.2fx %10.1f%% %7.3f %11.2f %9.2fx %12.0f%%", k, measured.tpotMs(), speedup(),
                100 * measured.acceptance(), fittedAcceptance(), measured.tokensPerPass(), predicted(),
                100 * speedup() / predicted());
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
        n.put("a", fittedAcceptance());
        n.put("predicted_speedup", predicted());
        n.put("measured_over_predicted", speedup() / predicted());
        n.put("ttft_ms", measured.ttftMs());
        return n;
    }
}
