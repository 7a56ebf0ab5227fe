package dev.starspec.engine.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.graph.FloatLinear;
import dev.starspec.engine.graph.LinearScheme;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.testing.DirectSession;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A row's logits do not depend on what else is in the pass: alone, with 7 other sequences in the batch, or
 * followed by 7 more tokens of its own (a verification pass). Speculative decoding is exact only if this holds.
 */
class BatchInvarianceTest {

    @TempDir
    static Path tmp;

    static Stream<LinearScheme> schemes() {
        return Stream.of(new NBitsLinear("int8", 8, 256, true, true), new NBitsLinear("int4", 4, 128, false, true),
                new FloatLinear());
    }

    static Artifact model(LinearScheme scheme) {
        ModelConfig c = RandomCheckpoint.config(256, 2, 4, 300, true, Activation.GELU_TANH);
        Path ckpt = tmp.resolve("ckpt");
        if (!ckpt.toFile().exists()) {
            RandomCheckpoint.write(ckpt, c, RandomCheckpoint.weights(c, 21, RandomCheckpoint.Options.f32()),
                    RandomCheckpoint.Options.f32());
        }
        return TestArtifacts.convert(ckpt, tmp.resolve("artifact-" + scheme.name()), scheme);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void rowZeroAloneEqualsRowZeroAmongSevenOthers(LinearScheme scheme) {
        Artifact a = model(scheme);
        Random r = new Random(1);
        long[][] batch = new long[8][12];
        for (long[] row : batch) {
            for (int t = 0; t < row.length; t++) {
                row[t] = r.nextInt(300);
            }
        }
        batch[3][4] = 7; // make the other rows differ in magnitude too
        float[] alone = DirectSession.lastLogits(a, new long[][] {batch[0]})[0];
        float[] among = DirectSession.lastLogits(a, batch)[0];
        assertRelativelyEqual(alone, among, 1e-5, scheme.name() + " batch of 8");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemes")
    void tokenAloneEqualsTheSameTokenFollowedBySevenMore(LinearScheme scheme) {
        Artifact a = model(scheme);
        int[] prompt = new Random(2).ints(10, 0, 300).toArray();
        int[] next = new Random(3).ints(8, 0, 300).toArray();
        Batch.Limits limits = new Batch.Limits(1, 32, 16, 8);
        try (Model m = Model.load(a, RuntimeOptions.defaults());
             Batch one = m.newBatch(OffHeapMemory.root(), limits);
             Batch eight = m.newBatch(OffHeapMemory.root(), limits)) {
            one.prefill(0, prompt, 0, prompt.length, 16);
            eight.prefill(0, prompt, 0, prompt.length, 16);
            one.add(0, next, 0, 1, 0);
            float[] single = one.run(false).row(0);
            eight.add(0, next, 0, 8, 0);
            float[] first = eight.run(false).row(0);
            assertRelativelyEqual(single, first, 1e-5, scheme.name() + " 1 vs 8 tokens");
        }
    }

    static void assertRelativelyEqual(float[] a, float[] b, double tolerance, String what) {
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(a[i]));
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        System.out.printf("%s: max |diff| %.3g at scale %.3g%n", what, worst, scale);
        assertTrue(worst <= tolerance * scale, what + ": max |diff| " + worst + " at scale " + scale);
    }
}
