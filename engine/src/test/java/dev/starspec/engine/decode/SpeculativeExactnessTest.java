package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.graph.FloatLinear;
import dev.starspec.engine.graph.LinearScheme;
import dev.starspec.engine.quant.NBitsLinear;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract: greedy speculative decoding produces exactly the target's greedy tokens, whatever drafts, for
 * every draft length policy, with a model draft or prompt lookup, at fp32 and int4, including generations that
 * end (stop sequence, EOS, max new tokens) inside an accepted run of draft tokens.
 */
class SpeculativeExactnessTest {

    static final int MAX_NEW = 24;

    static Map<String, DraftLength> policies() {
        Map<String, DraftLength> p = new LinkedHashMap<>();
        for (int k : new int[] {1, 3, 5, 8}) {
            p.put("K=" + k, DraftLength.fixed(k));
        }
        p.put("adaptive K<=8, p-min 0.4", new DraftLength(8, true, 0.4));
        return p;
    }

    static Stream<Arguments> quantizations() {
        return Stream.of(Arguments.of("fp32", new FloatLinear()), Arguments.of("int4", new NBitsLinear("int4", 4, 128, false, true)));
    }

    @ParameterizedTest(name = "tiny trained pair, {0}")
    @MethodSource("quantizations")
    void trainedPairOnHumanEvalPrompts(String quant, LinearScheme scheme) {
        Artifact targetArtifact = TestArtifacts.cached(ProjectFiles.tinyTarget(), scheme);
        Artifact draftArtifact = TestArtifacts.cached(ProjectFiles.tinyDraft(), scheme);
        List<String> prompts = HumanEvalTexts.prompts().subList(0, 100);
        try (Model target = Model.load(targetArtifact, RuntimeOptions.defaults());
             Model draft = Model.load(draftArtifact, RuntimeOptions.defaults())) {
            assertSpeculationIsExact(quant, target, new ModelDrafter(draft), prompts, true);
        }
    }

    @ParameterizedTest(name = "random checkpoints, multi-query {0}")
    @MethodSource("mqa")
    void randomCheckpoints(boolean multiQuery, @TempDir Path tmp) {
        ModelConfig c = RandomCheckpoint.config(64, 2, 4, 300, multiQuery, Activation.GELU_TANH);
        Map<String, float[]> w = RandomCheckpoint.weights(c, 31, RandomCheckpoint.Options.f32());
        RandomCheckpoint.write(tmp.resolve("target"), c, w, RandomCheckpoint.Options.f32());
        // The draft is the target with noise: it agrees often, not always.
        Random r = new Random(5);
        Map<String, float[]> noisy = new LinkedHashMap<>();
        w.forEach((name, v) -> {
            float[] n = v.clone();
            for (int i = 0; i < n.length; i++) {
                n[i] += (float) r.nextGaussian() * 0.02f;
            }
            noisy.put(name, n);
        });
        RandomCheckpoint.write(tmp.resolve("draft"), c, noisy, RandomCheckpoint.Options.f32());
        List<String> prompts = new ArrayList<>();
        Random pr = new Random(6);
        for (int i = 0; i < 24; i++) {
            StringBuilder s = new StringBuilder();
            for (int j = 0; j < 5 + pr.nextInt(30); j++) {
                s.append((char) ('a' + pr.nextInt(26)));
            }
            prompts.add(s.toString());
        }
        try (Model target = Model.load(TestArtifacts.convert(tmp.resolve("target"), tmp.resolve("t")), RuntimeOptions.defaults());
             Model draft = Model.load(TestArtifacts.convert(tmp.resolve("draft"), tmp.resolve("d")), RuntimeOptions.defaults())) {
            assertSpeculationIsExact("random", target, new ModelDrafter(draft), prompts, false);
        }
    }

    static Stream<Boolean> mqa() {
        return Stream.of(true, false);
    }

    /**
     * @param mustEndInRuns require some generations to end inside an accepted run (the trained pair's loops and
     *     HumanEval's stop sequences make that common; random models rarely hit a stop sequence)
     */
    private static void assertSpeculationIsExact(String label, Model target, ModelDrafter draft, List<String> prompts,
                                                 boolean mustEndInRuns) {
        AutoregressiveDecoder plain = new AutoregressiveDecoder(target, OffHeapMemory.root(), ContextPolicy.ERROR);
        List<Generation> expected = new ArrayList<>();
        for (String p : prompts) {
            expected.add(plain.generate(GenerationRequest.greedy(p, MAX_NEW)));
        }
        Map<String, Drafter> drafters = new LinkedHashMap<>();
        policies().keySet().forEach(name -> drafters.put(name, draft));
        drafters.put("prompt lookup", new PromptLookupDrafter(3));
        Map<String, DraftLength> lengths = policies();
        lengths.put("prompt lookup", DraftLength.fixed(5));

        for (var e : drafters.entrySet()) {
            AtomicInteger endedInRun = new AtomicInteger();
            AtomicInteger accepted = new AtomicInteger();
            SpeculativeDecoder spec = new SpeculativeDecoder(target, e.getValue(), lengths.get(e.getKey()),
                    OffHeapMemory.root(), ContextPolicy.ERROR,
                    (v, d, text, len, proposed, kept, inRun) -> {
                        accepted.addAndGet(kept);
                        if (inRun) {
                            endedInRun.incrementAndGet();
                        }
                    });
            for (int i = 0; i < prompts.size(); i++) {
                Generation want = expected.get(i);
                Generation got = spec.generate(GenerationRequest.greedy(prompts.get(i), MAX_NEW));
                String where = label + " " + e.getKey() + " prompt " + i;
                assertArrayEquals(want.tokens(), got.tokens(), where);
                assertEquals(want.completion(), got.completion(), where);
                assertEquals(want.finishReason(), got.finishReason(), where);
                // One token from prefill, then per pass the accepted proposals plus the target's own token,
                // which the last pass lacks when the generation ended inside its accepted run.
                long produced = 1 + got.draft().accepted() + got.draft().targetPasses();
                assertTrue(got.completionTokens() == produced || got.completionTokens() == produced - 1,
                        where + ": " + got.completionTokens() + " tokens from " + got.draft());
            }
            System.out.printf("%s %s: %d accepted draft tokens, %d generations ended inside an accepted run%n",
                    label, e.getKey(), accepted.get(), endedInRun.get());
            assertTrue(accepted.get() > 0, label + " " + e.getKey() + ": the drafter never helped; the test proves nothing");
            assertTrue(!mustEndInRuns || endedInRun.get() > 0, label + " " + e.getKey() + ": no generation ended inside an accepted run");
        }
    }
}
