package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.runtime.CostCurve;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The draft planner weighs measured pass costs: it speculates where the target's pass is memory-bound (more tokens
 * cost little) and the draft is cheap, stops where the batch already fills the compute, and gives short or no
 * windows to rows the draft keeps failing.
 */
class DraftPlannerTest {

    /** Memory-bound up to 8 tokens, then compute-bound: t(M) = 10 ms, then 10 + 2 (M - 8). */
    static final CostCurve TARGET = CostCurve.of("test", new int[] {1, 8, 16, 64}, new double[] {10, 10, 26, 122});
    static final CostCurve DRAFT = CostCurve.of("test", new int[] {1, 8, 16, 64}, new double[] {0.5, 0.5, 1.3, 6.1});

    static DraftPlanner planner(int maxK) {
        return new DraftPlanner(DraftLength.adaptive(maxK), TARGET, DRAFT);
    }

    static double[] acceptance(int rows, double a) {
        double[] out = new double[rows];
        Arrays.fill(out, a);
        return out;
    }

    @Test
    void oneRowWithAGoodCheapDraftSpeculatesDeeply() {
        int[] k = planner(8).best(new int[] {8}, acceptance(1, 0.9), 1);
        assertTrue(k[0] >= 5, "k = " + k[0]);
    }

    @Test
    void aFullBatchLeavesNothingToSpeculateWith() {
        // 32 rows already take the target to 32 tokens a pass, deep in its compute-bound part.
        int rows = 32;
        int[] room = new int[rows];
        Arrays.fill(room, 8);
        assertArrayEquals(new int[rows], planner(8).best(room, acceptance(rows, 0.8), rows));
        assertFalse(planner(8).draftingPays(rows, 0.8));
        assertTrue(planner(8).draftingPays(1, 0.8));
    }

    @Test
    void whereEveryTokenCostsRowsTheDraftFailsGetNoWindowAndRowsItServesALongOne() {
        // Each token of the target's pass costs 1 ms more: a proposal pays only if it is likely to be kept.
        CostCurve linear = CostCurve.of("test", new int[] {1, 64}, new double[] {10, 73});
        DraftPlanner p = new DraftPlanner(DraftLength.adaptive(8), linear, DRAFT);
        int[] k = p.best(new int[] {8, 8, 8, 8}, new double[] {0.95, 0.95, 0.1, 0.1}, 4);
        assertTrue(k[0] >= 3 && k[1] >= 3, Arrays.toString(k));
        assertEquals(0, k[2], Arrays.toString(k));
        assertEquals(0, k[3], Arrays.toString(k));
    }

    @Test
    void whereTheTargetsPassIsFlatEvenAPoorRowProposesOneToken() {
        // Below 8 tokens the target's pass costs the same: a proposal there is free, whatever its odds.
        int[] k = planner(8).best(new int[] {8, 8, 8, 8}, new double[] {0.95, 0.95, 0.1, 0.1}, 4);
        assertTrue(k[2] >= 1, Arrays.toString(k));
    }

    @Test
    void noRoomNoProposals() {
        int[] k = planner(8).best(new int[] {0, 2}, acceptance(2, 0.99), 2);
        assertEquals(0, k[0]);
        assertTrue(k[1] <= 2);
    }

    @Test
    void aFixedLengthIsNotWeighed() {
        DraftPlanner fixed = new DraftPlanner(DraftLength.fixed(3), null, null);
        assertTrue(fixed.draftingPays(64, 0.01));
    }

    @Test
    void expectedTokensSumTheAcceptedRunAndTheTargetsOwnToken() {
        assertEquals(1 + 0.5 + 0.25, DraftPlanner.expectedTokens(0.5, 2), 1e-12);
        assertEquals(4, DraftPlanner.expectedTokens(1.0, 3), 1e-12);
        assertEquals(1, DraftPlanner.expectedTokens(0.7, 0), 1e-12);
    }
}
