package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sampling samples from the target: over many seeds, decoded 8 rows at a time, the first three tokens (jointly,
 * and each on its own) pass chi-square tests against the exact distribution computed from the target's
 * probabilities, for plain sampling and for both kinds of speculative sampling; a sampler that is wrong 5% of the
 * time fails them.
 */
class SamplingDistributionTest {

    static final int SAMPLES = 12000;
    static final Sampling SAMPLING = new Sampling(1.0, 1.0, 4, 0);
    static final String PROMPT = "xy";

    @TempDir
    static Path tmp;
    static Model target;
    static Model draft;
    static Map<List<Integer>, Double> exact;

    @BeforeAll
    static void models() {
        target = Model.load(randomModel("target", 12), RuntimeOptions.defaults());
        draft = Model.load(randomModel("draft", 13), RuntimeOptions.defaults());
        exact = exactDistribution();
    }

    @AfterAll
    static void close() {
        target.close();
        draft.close();
    }

    /** Peaked enough that top-4 keeps real choices; different seeds make the draft disagree often. */
    static dev.starspec.engine.artifact.Artifact randomModel(String name, long seed) {
        ModelConfig c = RandomCheckpoint.config(32, 1, 2, 257, true, Activation.GELU_TANH);
        RandomCheckpoint.Options o = new RandomCheckpoint.Options(dev.starspec.engine.checkpoint.DType.F32, 1, false, 0.3f);
        RandomCheckpoint.write(tmp.resolve(name), c, RandomCheckpoint.weights(c, seed, o), o);
        return TestArtifacts.convert(tmp.resolve(name), tmp.resolve(name + "-artifact"));
    }

    static Decoder decoder(Draft draft, SpeculativeSampling sampling) {
        return Decoder.create(target, draft, new DecodeOptions(8, DraftLength.fixed(3), sampling, ContextPolicy.ERROR),
                OffHeapMemory.root());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(SpeculativeSampling.class)
    void speculativeSamplingMatchesTheTarget(SpeculativeSampling sampling) {
        assertTrue(matchesTarget(sampleAll(decoder(new Draft.OfModel(draft), sampling))), "speculative sampling, " + sampling);
    }

    @Test
    void promptLookupSamplingMatchesTheTarget() {
        // Rejection sampling with certain proposals: q = 1 for the copied token.
        assertTrue(matchesTarget(sampleAll(decoder(new Draft.PromptLookup(2), SpeculativeSampling.REJECTION))),
                "prompt lookup, rejection sampling");
    }

    @Test
    void plainSamplingMatchesTheTarget() {
        assertTrue(matchesTarget(sampleAll(decoder(new Draft.None(), SpeculativeSampling.COUPLED))), "plain sampling");
    }

    /**
     * The power check: a sampler whose first token is, 5% of the time, the least likely of the four candidates
     * instead of a draw from the target. The same test on token 1 must notice.
     */
    @Test
    void theTestCatchesASamplerThatIsWrongFivePercentOfTheTime() {
        int leastLikely = exact.entrySet().stream()
                .collect(java.util.stream.Collectors.groupingBy(e -> e.getKey().get(0),
                        java.util.stream.Collectors.summingDouble(Map.Entry::getValue)))
                .entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow().getKey();
        Random coin = new Random(99);
        List<List<Integer>> drawn = new ArrayList<>();
        for (List<Integer> outcome : sampleAll(decoder(new Draft.None(), SpeculativeSampling.COUPLED))) {
            drawn.add(List.of(coin.nextDouble() < 0.05 ? leastLikely : outcome.get(0)));
        }
        assertTrue(!chiSquare("token 1, 5% wrong", drawn, outcome -> List.of(outcome.get(0))), "a 5% error went unnoticed");
    }

    /** The first three tokens for seeds 0 .. SAMPLES - 1, decoded together. */
    static List<List<Integer>> sampleAll(Decoder decoder) {
        List<Submission<Integer>> in = new ArrayList<>();
        for (int s = 0; s < SAMPLES; s++) {
            in.add(Submission.now(s, request(s)));
        }
        List<List<Integer>> out = new ArrayList<>(java.util.Collections.nCopies(SAMPLES, null));
        try (Decoding<Integer> d = decoder.decode(in.iterator())) {
            while (d.hasNext()) {
                Outcome<Integer> o = d.next();
                out.set(o.key(), firstThree(o.generation()));
            }
        }
        return out;
    }

    static GenerationRequest request(long seed) {
        return new GenerationRequest(PROMPT, 4, List.of(), new Sampling(SAMPLING.temperature(), SAMPLING.topP(),
                SAMPLING.topK(), seed));
    }

    static List<Integer> firstThree(Generation g) {
        int[] t = g.tokens();
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            out.add(i < t.length && (i == 0 || t[i - 1] != 0) ? t[i] : -1);
        }
        return out;
    }

    /**
     * Draws {@link #SAMPLES} outcomes and tests four hypotheses, each at 0.1% / 4: the joint distribution of the
     * first three tokens, and each token's own distribution. Marginals have few cells, so they catch small
     * shifts in the likely outcomes; the joint test catches dependence between tokens.
     */
    static boolean matchesTarget(List<List<Integer>> drawn) {
        boolean all = chiSquare("joint", drawn, outcome -> outcome);
        for (int i = 0; i < 3; i++) {
            int position = i;
            all &= chiSquare("token " + (i + 1), drawn, outcome -> List.of(outcome.get(position)));
        }
        return all;
    }

    /** Pearson's test of the projected outcomes (cells with fewer than 5 expected merged) at 0.025%. */
    static boolean chiSquare(String what, List<List<Integer>> drawn,
                             java.util.function.Function<List<Integer>, List<Integer>> projection) {
        Map<List<Integer>, Double> expectedP = new HashMap<>();
        exact.forEach((outcome, p) -> expectedP.merge(projection.apply(outcome), p, Double::sum));
        Map<List<Integer>, Integer> counts = new HashMap<>();
        for (List<Integer> d : drawn) {
            counts.merge(projection.apply(d), 1, Integer::sum);
        }
        int impossible = counts.entrySet().stream().filter(e -> !expectedP.containsKey(e.getKey()))
                .mapToInt(Map.Entry::getValue).sum();
        if (impossible > 0) {
            System.out.printf("%s: %d samples impossible under the target%n", what, impossible);
            return false;
        }
        double stat = 0;
        int cells = 0;
        double restExpected = 0;
        double restObserved = 0;
        for (var e : expectedP.entrySet()) {
            double expected = e.getValue() * drawn.size();
            int observed = counts.getOrDefault(e.getKey(), 0);
            if (expected < 5) {
                restExpected += expected;
                restObserved += observed;
            } else {
                stat += (observed - expected) * (observed - expected) / expected;
                cells++;
            }
        }
        if (restExpected > 0) {
            stat += (restObserved - restExpected) * (restObserved - restExpected) / restExpected;
            cells++;
        }
        int df = cells - 1;
        // Wilson-Hilferty approximation of the chi-square quantile at 1 - 0.00025 (z = 3.4808).
        double crit = df * Math.pow(1 - 2.0 / (9 * df) + 3.4808 * Math.sqrt(2.0 / (9 * df)), 3);
        System.out.printf("%s: chi-square %.1f with %d degrees of freedom, critical %.1f%n", what, stat, df, crit);
        return stat < crit;
    }

    /** P(x1, x2, x3) from the target's filtered distributions, EOS (id 0) ending the sequence. */
    static Map<List<Integer>, Double> exactDistribution() {
        TokenSampler sampler = new TokenSampler(SAMPLING);
        int[] prompt = target.tokenizer().encode(PROMPT);
        Map<List<Integer>, Double> out = new HashMap<>();
        double[] p1 = distributionAfter(sampler, prompt);
        for (int x1 = 0; x1 < p1.length; x1++) {
            if (p1[x1] == 0) {
                continue;
            }
            if (x1 == 0) {
                out.put(List.of(0, -1, -1), p1[0]);
                continue;
            }
            double[] p2 = distributionAfter(sampler, append(prompt, x1));
            for (int x2 = 0; x2 < p2.length; x2++) {
                if (p2[x2] == 0) {
                    continue;
                }
                if (x2 == 0) {
                    out.put(List.of(x1, 0, -1), p1[x1] * p2[0]);
                    continue;
                }
                double[] p3 = distributionAfter(sampler, append(append(prompt, x1), x2));
                for (int x3 = 0; x3 < p3.length; x3++) {
                    if (p3[x3] > 0) {
                        out.put(List.of(x1, x2, x3), p1[x1] * p2[x2] * p3[x3]);
                    }
                }
            }
        }
        return out;
    }

    static double[] distributionAfter(TokenSampler sampler, int[] tokens) {
        try (Batch s = target.newBatch(OffHeapMemory.root(), new Batch.Limits(1, tokens.length, tokens.length, 1))) {
            Logits l = s.prefill(0, tokens, 0, tokens.length, tokens.length);
            return sampler.distribution(l, 0);
        }
    }

    static int[] append(int[] a, int x) {
        int[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = x;
        return b;
    }
}
