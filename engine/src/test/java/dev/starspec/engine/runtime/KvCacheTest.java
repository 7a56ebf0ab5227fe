package dev.starspec.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The KV cache: many tokens in one pass equal one token per pass, and rollback forgets exactly a suffix. */
class KvCacheTest {

    @TempDir
    static Path tmp;

    static Artifact model(boolean multiQuery) {
        ModelConfig c = RandomCheckpoint.config(64, 2, 4, 300, multiQuery, Activation.GELU_TANH);
        Path dir = tmp.resolve(multiQuery ? "mqa" : "mha");
        RandomCheckpoint.write(dir, c, RandomCheckpoint.weights(c, 11, RandomCheckpoint.Options.f32()),
                RandomCheckpoint.Options.f32());
        return TestArtifacts.convert(dir, tmp.resolve((multiQuery ? "mqa" : "mha") + "-artifact"));
    }

    @ParameterizedTest(name = "multi-query {0}")
    @ValueSource(booleans = {true, false})
    void manyTokensInOnePassEqualOneTokenPerPass(boolean multiQuery) {
        int[] tokens = new Random(3).ints(20, 1, 300).toArray();
        try (Model model = Model.load(model(multiQuery), RuntimeOptions.defaults());
             Sequence batched = model.newSequence(OffHeapMemory.root(), 20, 20, 20);
             Sequence stepped = model.newSequence(OffHeapMemory.root(), 20, 20, 20)) {
            // A 12-token prefix in one pass, then the last 8 tokens as one verification-like pass ...
            batched.forward(tokens, 0, 12, 11);
            Logits many = batched.forward(tokens, 12, 8, 0);
            float[][] manyRows = new float[8][];
            for (int r = 0; r < 8; r++) {
                manyRows[r] = many.row(r);
            }
            // ... against one token per pass.
            for (int t = 0; t < 20; t++) {
                Logits one = stepped.forward(tokens, t, 1, 0);
                if (t >= 12) {
                    assertClose(manyRows[t - 12], one.row(0), 1e-5f, "logits at position " + t);
                }
            }
            for (int layer = 0; layer < model.config().nLayer(); layer++) {
                for (boolean keys : new boolean[] {true, false}) {
                    assertClose(stepped.cache().copy(layer, keys, 0, 20), batched.cache().copy(layer, keys, 0, 20),
                            1e-5f, "layer " + layer + (keys ? " keys" : " values"));
                }
            }
        }
    }

    @ParameterizedTest(name = "multi-query {0}")
    @ValueSource(booleans = {true, false})
    void rollbackThenRedecodingEqualsNeverHavingGonePast(boolean multiQuery) {
        int[] prompt = new Random(5).ints(10, 1, 300).toArray();
        int[] path = {17, 250, 3, 99, 42, 7};
        int[] other = {18, 251, 4, 100, 43, 8};
        try (Model model = Model.load(model(multiQuery), RuntimeOptions.defaults());
             Sequence seq = model.newSequence(OffHeapMemory.root(), 32, 16, 8);
             Sequence fresh = model.newSequence(OffHeapMemory.root(), 32, 16, 8)) {
            seq.prefill(prompt, 0, prompt.length);
            float[] reference = seq.forward(path, 0, 6, 5).row(0);
            float[] keys = seq.cache().copy(1, true, 0, 16);

            // Wander off on another continuation, twice, rolling back each time.
            for (int attempt = 0; attempt < 2; attempt++) {
                seq.rollback(prompt.length + 2);
                seq.forward(other, 2, 4, 0);
                assertEquals(16, seq.length());
                seq.rollback(prompt.length + 2);
                assertEquals(12, seq.length());
                float[] again = seq.forward(path, 2, 4, 3).row(0);
                assertArrayEquals(reference, again, "re-decoding after rollback is bit-identical");
                assertArrayEquals(keys, seq.cache().copy(1, true, 0, 16));
            }

            // And it equals a sequence that never saw the other continuation.
            fresh.prefill(prompt, 0, prompt.length);
            assertClose(reference, fresh.forward(path, 0, 6, 5).row(0), 1e-5f, "fresh prefill of the same tokens");
        }
    }

    static void assertClose(float[] expected, float[] actual, float relative, String what) {
        assertEquals(expected.length, actual.length, what);
        float scale = 0;
        float worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= relative * Math.max(scale, 1e-3f), what + ": max |diff| " + worst + " at scale " + scale);
    }
}
