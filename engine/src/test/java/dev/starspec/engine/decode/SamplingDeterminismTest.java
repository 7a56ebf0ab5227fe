package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.TestArtifacts;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With sampling, a row's output is a function of its prompt, settings and seed alone: the same at batch 1 and 8,
 * whatever rows share its passes and in whatever order they come; and with coupled speculative sampling the same
 * with a draft model, with prompt lookup and without a draft, at any draft length the planner picks.
 */
class SamplingDeterminismTest {

    static Model target;
    static Model draft;
    static List<GenerationRequest> requests;

    @BeforeAll
    static void load() {
        target = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
        draft = Model.load(TestArtifacts.tinyDraft(), RuntimeOptions.defaults());
        requests = new ArrayList<>();
        List<String> prompts = HumanEvalTexts.prompts();
        for (int i = 0; i < 24; i++) {
            // Two rows of the same prompt with different seeds, so that seeds visibly matter.
            requests.add(new GenerationRequest(prompts.get(i / 2), 24, GenerationRequest.HUMANEVAL_STOPS,
                    new Sampling(0.8, 0.95, 0, 1000 + i)));
        }
    }

    @AfterAll
    static void close() {
        target.close();
        draft.close();
    }

    static Map<Integer, int[]> run(Draft d, int batch, DraftLength length, SpeculativeSampling sampling, long order) {
        return run(target, d, batch, length, sampling, order);
    }

    static Map<Integer, int[]> run(Model model, Draft d, int batch, DraftLength length, SpeculativeSampling sampling,
                                   long order) {
        Decoder decoder = Decoder.create(model, d, new DecodeOptions(batch, length, sampling, ContextPolicy.ERROR),
                OffHeapMemory.root());
        List<Submission<Integer>> in = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            in.add(Submission.now(i, requests.get(i)));
        }
        Collections.shuffle(in, new Random(order)); // other neighbours, another order of arrival
        Map<Integer, int[]> out = new HashMap<>();
        try (Decoding<Integer> it = decoder.decode(in.iterator())) {
            it.forEachRemaining(o -> out.put(o.key(), o.generation().tokens()));
        }
        return out;
    }

    static void assertSame(Map<Integer, int[]> want, Map<Integer, int[]> got, String what) {
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(want.get(i), got.get(i), what + ", row " + i);
        }
    }

    @Test
    void aRowsSamplesDependOnItsSeedNotOnItsNeighbours() {
        Map<Integer, int[]> alone = run(new Draft.None(), 1, DraftLength.fixed(1), SpeculativeSampling.COUPLED, 1);
        assertSame(alone, run(new Draft.None(), 8, DraftLength.fixed(1), SpeculativeSampling.COUPLED, 2), "batch 8");
        assertSame(alone, run(new Draft.None(), 5, DraftLength.fixed(1), SpeculativeSampling.COUPLED, 3), "batch 5, another order");
        boolean seedsMatter = false;
        for (int i = 0; i < requests.size(); i += 2) {
            seedsMatter |= !java.util.Arrays.equals(alone.get(i), alone.get(i + 1));
        }
        assertTrue(seedsMatter, "the same prompt with another seed gives another sample");
    }

    @Test
    void coupledSpeculationSamplesExactlyWhatPlainSamplingDoes() {
        Map<Integer, int[]> plain = run(new Draft.None(), 1, DraftLength.fixed(1), SpeculativeSampling.COUPLED, 1);
        assertSame(plain, run(new Draft.OfModel(draft), 1, DraftLength.fixed(4), SpeculativeSampling.COUPLED, 4),
                "model draft, K=4, batch 1");
        assertSame(plain, run(new Draft.OfModel(draft), 8, DraftLength.adaptive(6), SpeculativeSampling.COUPLED, 5),
                "model draft, adaptive, batch 8");
        assertSame(plain, run(new Draft.PromptLookup(3), 8, DraftLength.fixed(5), SpeculativeSampling.COUPLED, 6),
                "prompt lookup, batch 8");
    }

    /**
     * An int8 model keeps its passes even: a row decoding alone verifies a free prompt-lookup guess in the spare slot
     * (coupled: the guess is kept only if it is the token sampled anyway), two rows fill the pass themselves.
     */
    @Test
    void guessesInTheSpareSlotOfAnEvenPassChangeNoSample() {
        try (Model int8 = Model.load(TestArtifacts.cached(dev.starspec.engine.testing.ProjectFiles.tinyTarget(),
                new dev.starspec.engine.quant.NBitsLinear("int8", 8, 256, true, true)), RuntimeOptions.defaults())) {
            assertTrue(int8.pairsTokens());
            assertSame(run(int8, new Draft.None(), 1, DraftLength.fixed(1), SpeculativeSampling.COUPLED, 9),
                    run(int8, new Draft.None(), 2, DraftLength.fixed(1), SpeculativeSampling.COUPLED, 10), "int8, batch 1 and 2");
        }
    }

    @Test
    void rejectionSamplingWithAFixedLengthIsTheSameAtAnyBatchSize() {
        DraftLength k3 = DraftLength.fixed(3);
        assertSame(run(new Draft.OfModel(draft), 1, k3, SpeculativeSampling.REJECTION, 7),
                run(new Draft.OfModel(draft), 8, k3, SpeculativeSampling.REJECTION, 8), "rejection sampling, K=3");
    }
}
