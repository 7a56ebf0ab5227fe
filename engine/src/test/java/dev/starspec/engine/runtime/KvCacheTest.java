package dev.starspec.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

/**
 * The batch and its KV cache: many tokens in one pass equal one token per pass; a ragged pass over rows of
 * different cached lengths and window sizes gives each row what it gets alone; rollback forgets exactly a suffix
 * of one row; reshaping keeps every row. For multi-query models (StarCoder's) "equal" is bit for bit: each token
 * attends to the cache in place, at absolute positions, in one softmax. Multi-head attention transposes the cache
 * per pass and agrees within float rounding (measured 7e-7 of the logit scale).
 */
class KvCacheTest {

    @TempDir
    static Path tmp;

    static Artifact model(boolean multiQuery) {
        ModelConfig c = RandomCheckpoint.config(64, 2, 4, 300, multiQuery, Activation.GELU_TANH);
        String name = multiQuery ? "mqa" : "mha";
        if (!tmp.resolve(name + "-artifact").toFile().exists()) {
            RandomCheckpoint.write(tmp.resolve(name), c, RandomCheckpoint.weights(c, 11, RandomCheckpoint.Options.f32()),
                    RandomCheckpoint.Options.f32());
            TestArtifacts.convert(tmp.resolve(name), tmp.resolve(name + "-artifact"));
        }
        return Artifact.open(tmp.resolve(name + "-artifact"));
    }

    static Batch.Limits single(int capacity) {
        return new Batch.Limits(1, capacity, capacity, capacity);
    }

    @ParameterizedTest(name = "multi-query {0}")
    @ValueSource(booleans = {true, false})
    void manyTokensInOnePassEqualOneTokenPerPass(boolean multiQuery) {
        int[] tokens = new Random(3).ints(20, 1, 300).toArray();
        try (Model model = Model.load(model(multiQuery), RuntimeOptions.defaults());
             Batch batched = model.newBatch(OffHeapMemory.root(), single(20));
             Batch stepped = model.newBatch(OffHeapMemory.root(), single(20))) {
            // A 12-token prefix in one pass, then the last 8 tokens as one verification-like pass ...
            batched.add(0, tokens, 0, 12, 11);
            batched.run(false);
            batched.add(0, tokens, 12, 8, 0);
            Logits many = batched.run(false);
            float[][] manyRows = new float[8][];
            for (int r = 0; r < 8; r++) {
                manyRows[r] = many.row(r);
            }
            // ... against one token per pass.
            for (int t = 0; t < 20; t++) {
                stepped.add(0, tokens, t, 1, 0);
                Logits one = stepped.run(false);
                if (t >= 12) {
                    assertClose(manyRows[t - 12], one.row(0), 1e-5f, "logits at position " + t);
                }
            }
            for (int layer = 0; layer < model.config().nLayer(); layer++) {
                for (boolean keys : new boolean[] {true, false}) {
                    assertClose(stepped.cache().copy(0, layer, keys, 0, 20), batched.cache().copy(0, layer, keys, 0, 20),
                            1e-5f, "layer " + layer + (keys ? " keys" : " values"));
                }
            }
        }
    }

    /**
     * Five rows with 3 to 17 cached positions, one slot left idle between them, windows of 1 to 6 tokens, all in one
     * pass of a wider cache: each row's logits and new cache entries are those it gets alone in a batch of its own.
     */
    @ParameterizedTest(name = "multi-query {0}")
    @ValueSource(booleans = {true, false})
    void aRaggedPassGivesEveryRowWhatItGetsAlone(boolean multiQuery) {
        Random random = new Random(9);
        int[] past = {5, 17, 0, 3, 11, 8};
        int[] window = {1, 6, 0, 3, 2, 4};
        int[][] text = new int[past.length][];
        for (int s = 0; s < past.length; s++) {
            text[s] = random.ints(past[s] + window[s], 1, 300).toArray();
        }
        try (Model model = Model.load(model(multiQuery), RuntimeOptions.defaults());
             Batch all = model.newBatch(OffHeapMemory.root(), new Batch.Limits(past.length, 40, 64, 32))) {
            for (int s = 0; s < past.length; s++) {
                if (past[s] > 0) {
                    all.prefill(s, text[s], 0, past[s], 7);
                }
            }
            int[] firstRow = new int[past.length];
            for (int s = 0; s < past.length; s++) {
                if (window[s] > 0) {
                    firstRow[s] = all.add(s, text[s], past[s], window[s], 0);
                }
            }
            Logits together = all.run(false);
            double worst = 0;
            for (int s = 0; s < past.length; s++) {
                if (window[s] == 0) {
                    assertEquals(0, all.cache().length(s), "the idle slot stays empty");
                    continue;
                }
                try (Batch alone = model.newBatch(OffHeapMemory.root(), single(past[s] + window[s]))) {
                    if (past[s] > 0) {
                        alone.prefill(0, text[s], 0, past[s], 64);
                    }
                    alone.add(0, text[s], past[s], window[s], 0);
                    Logits own = alone.run(false);
                    for (int i = 0; i < window[s]; i++) {
                        worst = Math.max(worst, assertClose(own.row(i), together.row(firstRow[s] + i), 1e-5f,
                                "slot " + s + " window token " + i));
                        assertEquals(own.argmax(i), together.argmax(firstRow[s] + i));
                        if (multiQuery) {
                            assertArrayEquals(own.row(i), together.row(firstRow[s] + i), "slot " + s + " bit for bit");
                        }
                    }
                    assertEquals(past[s] + window[s], all.cache().length(s));
                    for (int layer = 0; layer < model.config().nLayer(); layer++) {
                        assertClose(alone.cache().copy(0, layer, true, 0, past[s] + window[s]),
                                all.cache().copy(s, layer, true, 0, past[s] + window[s]), 1e-5f, "slot " + s + " keys");
                        assertClose(alone.cache().copy(0, layer, false, 0, past[s] + window[s]),
                                all.cache().copy(s, layer, false, 0, past[s] + window[s]), 1e-5f, "slot " + s + " values");
                    }
                }
            }
            System.out.printf("ragged pass vs rows alone (multi-query %s): max |diff| %.3g%n", multiQuery, worst);
        }
    }

    @ParameterizedTest(name = "multi-query {0}")
    @ValueSource(booleans = {true, false})
    void rollbackThenRedecodingEqualsNeverHavingGonePast(boolean multiQuery) {
        int[] prompt = new Random(5).ints(10, 1, 300).toArray();
        int[] path = {17, 250, 3, 99, 42, 7};
        int[] other = {18, 251, 4, 100, 43, 8};
        int[] neighbour = new Random(6).ints(16, 1, 300).toArray();
        try (Model model = Model.load(model(multiQuery), RuntimeOptions.defaults());
             Batch batch = model.newBatch(OffHeapMemory.root(), new Batch.Limits(2, 32, 16, 8));
             Batch fresh = model.newBatch(OffHeapMemory.root(), single(32))) {
            batch.prefill(0, prompt, 0, prompt.length, 16);
            batch.prefill(1, neighbour, 0, 8, 16);
            batch.add(0, path, 0, 6, 5);
            float[] reference = batch.run(false).row(0);
            float[] keys = batch.cache().copy(0, 1, true, 0, 16);
            float[] neighbourKeys = batch.cache().copy(1, 1, true, 0, 8);

            // Wander off on another continuation, twice, rolling back each time, while the neighbour moves on.
            for (int attempt = 0; attempt < 2; attempt++) {
                batch.cache().rollback(0, prompt.length + 2);
                batch.add(0, other, 2, 4, 0);
                batch.add(1, neighbour, 8 + attempt, 1, 0);
                batch.run(false);
                assertEquals(16, batch.cache().length(0));
                batch.cache().rollback(0, prompt.length + 2);
                assertEquals(12, batch.cache().length(0));
                batch.add(0, path, 2, 4, 3);
                float[] again = batch.run(false).row(0);
                assertClose(reference, again, 1e-5f, "re-decoding after rollback");
                assertClose(keys, batch.cache().copy(0, 1, true, 0, 16), 1e-5f, "keys after rollback");
                if (multiQuery) {
                    assertArrayEquals(reference, again, "re-decoding after rollback is bit-identical");
                    assertArrayEquals(keys, batch.cache().copy(0, 1, true, 0, 16));
                }
                assertArrayEquals(neighbourKeys, batch.cache().copy(1, 1, true, 0, 8), "the neighbour's past is untouched");
                assertEquals(9 + attempt, batch.cache().length(1));
            }

            // And it equals a sequence that never saw the other continuation.
            fresh.prefill(0, prompt, 0, prompt.length, 16);
            fresh.add(0, path, 0, 6, 5);
            assertClose(reference, fresh.run(false).row(0), 1e-5f, "fresh prefill of the same tokens");
        }
    }

    @ParameterizedTest(name = "multi-query {0}")
    @ValueSource(booleans = {true, false})
    void reshapingKeepsEveryRow(boolean multiQuery) {
        int[] a = new Random(12).ints(30, 1, 300).toArray();
        int[] b = new Random(13).ints(30, 1, 300).toArray();
        try (Model model = Model.load(model(multiQuery), RuntimeOptions.defaults());
             Batch grown = model.newBatch(OffHeapMemory.root(), new Batch.Limits(2, 16, 16, 4));
             Batch big = model.newBatch(OffHeapMemory.root(), new Batch.Limits(4, 40, 16, 4))) {
            for (Batch x : new Batch[] {grown, big}) {
                x.prefill(0, a, 0, 12, 16);
                x.prefill(1, b, 0, 9, 16);
            }
            grown.resize(new Batch.Limits(4, 40, 16, 4));
            assertEquals(12, grown.cache().length(0));
            assertEquals(9, grown.cache().length(1));
            for (Batch x : new Batch[] {grown, big}) {
                x.prefill(0, a, 12, 18, 16);
                x.prefill(3, b, 0, 5, 16);
            }
            for (int layer = 0; layer < model.config().nLayer(); layer++) {
                assertArrayEquals(big.cache().copy(0, layer, true, 0, 30), grown.cache().copy(0, layer, true, 0, 30));
                assertArrayEquals(big.cache().copy(1, layer, false, 0, 9), grown.cache().copy(1, layer, false, 0, 9));
            }
            assertThrows(IllegalStateException.class, () -> grown.resize(new Batch.Limits(2, 40, 16, 4)),
                    "slot 3 still holds a row");
        }
    }

    static double assertClose(float[] expected, float[] actual, float relative, String what) {
        assertEquals(expected.length, actual.length, what);
        float scale = 0;
        float worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= relative * Math.max(scale, 1e-3f), what + ": max |diff| " + worst + " at scale " + scale);
        return worst;
    }
}
