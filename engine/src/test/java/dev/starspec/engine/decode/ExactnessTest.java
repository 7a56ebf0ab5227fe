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
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract: greedy output is token for token the target's own output decoded one row at a time without a
 * draft, at every batch size, with no draft, a model draft or prompt lookup, at fp32, int8 and int4. The rows
 * have mixed prompt lengths and their own max new tokens, join and leave the batch as others finish, and stop
 * sequences, EOS and max new tokens land inside accepted runs of draft tokens.
 */
class ExactnessTest {

    static Stream<Arguments> quantizations() {
        return Stream.of(Arguments.of("fp32", new FloatLinear()),
                Arguments.of("int8", new NBitsLinear("int8", 8, 256, true, true)),
                Arguments.of("int4", new NBitsLinear("int4", 4, 128, false, true)));
    }

    /** 100 HumanEval prompts, each with its own max new tokens (8 to 40), and HumanEval's stop sequences. */
    static List<GenerationRequest> humanEvalRequests() {
        List<GenerationRequest> out = new ArrayList<>();
        List<String> prompts = HumanEvalTexts.prompts().subList(0, 100);
        for (int i = 0; i < prompts.size(); i++) {
            out.add(new GenerationRequest(prompts.get(i), 8 + (i * 13) % 33, GenerationRequest.HUMANEVAL_STOPS,
                    Sampling.GREEDY));
        }
        return out;
    }

    @ParameterizedTest(name = "tiny trained pair, {0}")
    @MethodSource("quantizations")
    void trainedPairOnHumanEvalPrompts(String quant, LinearScheme scheme) {
        Artifact targetArtifact = TestArtifacts.cached(ProjectFiles.tinyTarget(), scheme);
        Artifact draftArtifact = TestArtifacts.cached(ProjectFiles.tinyDraft(), scheme);
        try (Model target = Model.load(targetArtifact, RuntimeOptions.defaults());
             Model draft = Model.load(draftArtifact, RuntimeOptions.defaults())) {
            assertExact(quant, target, draft, humanEvalRequests(), new int[] {1, 2, 4, 8, 16}, true, quant.equals("fp32"));
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
        List<GenerationRequest> requests = new ArrayList<>();
        Random pr = new Random(6);
        for (int i = 0; i < 24; i++) {
            StringBuilder s = new StringBuilder();
            for (int j = 0; j < 5 + pr.nextInt(30); j++) {
                s.append((char) ('a' + pr.nextInt(26)));
            }
            requests.add(new GenerationRequest(s.toString(), 10 + pr.nextInt(20), List.of(), Sampling.GREEDY));
        }
        try (Model target = Model.load(TestArtifacts.convert(tmp.resolve("target"), tmp.resolve("t")), RuntimeOptions.defaults());
             Model draft = Model.load(TestArtifacts.convert(tmp.resolve("draft"), tmp.resolve("d")), RuntimeOptions.defaults())) {
            assertExact("random", target, draft, requests, new int[] {1, 3, 8}, false, true);
        }
    }

    static Stream<Boolean> mqa() {
        return Stream.of(true, false);
    }

    /**
     * @param mustEndInRuns require some generations to end inside an accepted run (the trained pair's loops and
     *     HumanEval's stop sequences make that common; random models rarely hit a stop sequence)
     * @param adaptive also run the planner's adaptive draft lengths (the fixed ones already cover the kernels)
     */
    static void assertExact(String label, Model target, Model draft, List<GenerationRequest> requests, int[] batchSizes,
                            boolean mustEndInRuns, boolean adaptive) {
        List<Generation> expected = run(Decoder.create(target, new Draft.None(),
                DecodeOptions.sequential(DraftLength.fixed(1)), OffHeapMemory.root()), requests);
        record Variant(Draft draft, DraftLength length, boolean mustDraft) {}
        Map<String, Variant> variants = new LinkedHashMap<>();
        variants.put("no draft", new Variant(new Draft.None(), DraftLength.fixed(1), false));
        // Fixed K always drafts; the planner's lengths vary per row and step (and it may decline to draft at all).
        variants.put("model draft K=4 p-min 0.2", new Variant(new Draft.OfModel(draft), new DraftLength(4, false, 0.2), true));
        if (adaptive) {
            variants.put("model draft adaptive", new Variant(new Draft.OfModel(draft), DraftLength.adaptive(6), false));
        }
        variants.put("prompt lookup K=5", new Variant(new Draft.PromptLookup(3), DraftLength.fixed(5), true));
        for (int batch : batchSizes) {
            for (var v : variants.entrySet()) {
                if (batch == 1 && v.getValue().draft() instanceof Draft.None) {
                    continue; // the reference itself
                }
                Decoder decoder = Decoder.create(target, v.getValue().draft(),
                        new DecodeOptions(batch, v.getValue().length(), SpeculativeSampling.COUPLED, ContextPolicy.ERROR),
                        OffHeapMemory.root());
                List<Generation> got = run(decoder, requests);
                int endedInRun = 0;
                long accepted = 0;
                for (int i = 0; i < requests.size(); i++) {
                    Generation want = expected.get(i);
                    Generation g = got.get(i);
                    String where = label + " " + v.getKey() + " batch " + batch + " prompt " + i;
                    assertArrayEquals(want.tokens(), g.tokens(), where);
                    assertEquals(want.completion(), g.completion(), where);
                    assertEquals(want.finishReason(), g.finishReason(), where);
                    if (g.draft() != null) {
                        accepted += g.draft().accepted();
                        // One token from prefill, then per pass the accepted proposals plus the target's own,
                        // which the last pass lacks when the generation ended inside its accepted run.
                        long produced = 1 + g.draft().accepted() + g.targetPasses();
                        assertTrue(g.completionTokens() == produced || g.completionTokens() == produced - 1,
                                where + ": " + g.completionTokens() + " tokens from " + g.draft());
                        endedInRun += g.completionTokens() == produced - 1 ? 1 : 0;
                    }
                }
                System.out.printf("%s %s batch %d: %d accepted draft tokens, %d generations ended inside an accepted run%n",
                        label, v.getKey(), batch, accepted, endedInRun);
                if (v.getValue().mustDraft()) {
                    String what = label + " " + v.getKey() + " batch " + batch;
                    assertTrue(accepted > 0, what + ": the drafter never helped; the test proves nothing");
                    assertTrue(!mustEndInRuns || endedInRun > 0, what + ": no generation ended inside an accepted run");
                }
            }
        }
    }

    /** Decodes the requests through one run of the decoder; generations in request order. */
    static List<Generation> run(Decoder decoder, List<GenerationRequest> requests) {
        List<Submission<Integer>> in = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            in.add(Submission.now(i, requests.get(i)));
        }
        Generation[] out = new Generation[requests.size()];
        int position = 0;
        boolean outOfOrder = false;
        try (Decoding<Integer> d = decoder.decode(in.iterator())) {
            while (d.hasNext()) {
                Outcome<Integer> o = d.next();
                if (o.failed()) {
                    throw new AssertionError("request " + o.key() + " failed", o.error());
                }
                out[o.key()] = o.generation();
                outOfOrder |= o.key() != position++;
            }
        }
        assertTrue(decoder.batchSize() == 1 || requests.size() < 4 || outOfOrder,
                "rows of a batch finish in their own time, not in submission order");
        return List.of(out);
    }
}
