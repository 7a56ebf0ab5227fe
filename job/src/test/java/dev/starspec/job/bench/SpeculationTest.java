package dev.starspec.job.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.starspec.engine.runtime.CostCurve;
import org.junit.jupiter.api.Test;

/** The analytical model of speculative decoding, and the acceptance fitted to measured tokens per pass. */
class SpeculationTest {

    @Test
    void predictedSpeedupFollowsLeviathanEtAl() {
        // (1 - 0.8^5) / ((1 - 0.8)(1 + 0.1 * 4)) = 0.67232 / 0.28
        assertEquals(0.67232 / 0.28, Speculation.predictedSpeedup(0.8, 0.1, 4), 1e-12);
        assertEquals(1.0, Speculation.predictedSpeedup(0.0, 0.0, 5), 1e-12, "nothing accepted, free draft: no gain");
        assertEquals(6.0 / 1.5, Speculation.predictedSpeedup(1.0, 0.1, 5), 1e-12, "everything accepted");
    }

    @Test
    void fittedAcceptanceInvertsTokensPerPass() {
        for (double a : new double[] {0.1, 0.5, 0.83, 0.97}) {
            double tau = Speculation.tokensPerPass(a, 5);
            BenchResult r = new BenchResult("t", "d", 139, 64, 1, 1, 1, 1, 1, 1, 1, a, tau, 5, 4, 0);
            assertEquals(a, new Speculation(5, 10, 1, r, CostCurve.FREE).fittedAcceptance(), 1e-9);
        }
    }

    @Test
    void measuredCostPredictionPricesTheStepsAsTheyRan() {
        // t(M) = 1 + 0.1 (M - 1) ms; steps verified 3 tokens (2 proposals) with 2 draft passes of c = 0.1 each and
        // yielded 2.5 tokens: a step costs 1.2 + 0.2 one-token passes, so 2.5 / 1.4 tokens per one-token pass.
        CostCurve t = CostCurve.of("test", new int[] {1, 2, 3, 4}, new double[] {1.0, 1.1, 1.2, 1.3});
        BenchResult r = new BenchResult("t", "d", 139, 64, 1, 1, 1, 4, 1, 1, 1, 0.7, 2.5, 2, 2, 0);
        Speculation s = new Speculation(3, 10, 1, r, t);
        assertEquals(2.5 / 1.4, s.predictedFromCosts(), 1e-12);
        assertEquals(10 / 4.0, s.speedup(), 1e-12);
    }
}
