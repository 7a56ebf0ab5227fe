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
            BenchResult r = new BenchResult("t", "d", 139, 64, 1, 1, 1, 1, 1, a, tau, 5, 4, 0);
            assertEquals(a, new Speculation(5, 10, 1, r, CostCurve.FREE, CostCurve.FREE).fittedAcceptance(), 1e-9);
        }
    }
}
