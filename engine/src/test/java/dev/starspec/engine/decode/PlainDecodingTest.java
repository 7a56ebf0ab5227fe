package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plain decoding on the trained tiny target: the ends of a generation, and its timings. */
class PlainDecodingTest {

    static Model model;
    static Decoder decoder;
    /** The reference continuation of this prompt is {@code f)\n    """\n    """...}. */
    static final String PROMPT = "import os\nimport sys\n\n\ndef main():\n    parser = argparse.ArgumentParser(";

    @BeforeAll
    static void load() {
        model = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
        decoder = plain(model, ContextPolicy.ERROR);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Decoder plain(Model m, ContextPolicy policy) {
        return Decoder.create(m, new Draft.None(), DecodeOptions.sequential(DraftLength.fixed(1)).withContextPolicy(policy),
                OffHeapMemory.root());
    }

    private static Generation run(String prompt, int maxNew, List<String> stops) {
        return decoder.generate(new GenerationRequest(prompt, maxNew, stops, Sampling.GREEDY));
    }

    @Test
    void maxNewTokensEndsWithLength() {
        Generation g = run(PROMPT, 16, List.of());
        assertEquals(FinishReason.LENGTH, g.finishReason());
        assertArrayEquals(new int[] {88, 27, 284, 1524, 284, 1524, 284, 1524, 284, 1524, 284, 1524, 284, 1524, 284, 1524},
                g.tokens(), "the reference greedy continuation");
        assertEquals("f)\n    \"\"\"\n    \"\"\"\n    \"\"\"\n    \"\"\"\n    \"\"\"\n    \"\"\"\n    \"\"\"", g.completion());
        assertEquals(17, g.promptTokens());
    }

    @Test
    void stopSequenceCutsTheCompletionBeforeIt() {
        Generation g = run(PROMPT, 16, List.of("\"\"\"", "never"));
        assertEquals(FinishReason.STOP, g.finishReason());
        assertEquals("f)\n    ", g.completion());
        assertEquals(4, g.completionTokens(), "f ) \\n+indent then the token that completes the stop");
    }

    @Test
    void stopSequenceSpanningTokens() {
        // "\n    \"\"\"\n" first appears across tokens 3..5 of the continuation.
        Generation g = run(PROMPT, 16, List.of("\"\"\"\n    \"\"\""));
        assertEquals(FinishReason.STOP, g.finishReason());
        assertEquals("f)\n    ", g.completion());
        assertEquals(6, g.completionTokens());
    }

    @Test
    void timingsAreConsistent() {
        Generation g = run(PROMPT, 8, List.of());
        assertTrue(g.ttftMs() > 0, "ttft " + g.ttftMs());
        assertTrue(g.tpotMs() > 0, "tpot " + g.tpotMs());
        assertTrue(g.totalMs() >= g.ttftMs() + 7 * g.tpotMs() - 1e-6, "total covers first token and the rest");
        assertTrue(Double.isNaN(run(PROMPT, 1, List.of()).tpotMs()), "one token has no time per output token");
    }

    @Test
    void promptLongerThanContextIsAnErrorOrTruncatedByPolicy() {
        String tooLong = "x = 1\n".repeat(200); // 5 tokens a line: 1000 tokens, context 512
        GenerationException e = assertThrows(GenerationException.class, () -> run(tooLong, 8, List.of()));
        assertTrue(e.getMessage().contains("512"), e.getMessage());

        Decoder truncating = plain(model, ContextPolicy.TRUNCATE_LEFT);
        Generation g = truncating.generate(new GenerationRequest(tooLong, 8, List.of(), Sampling.GREEDY));
        assertEquals(504, g.promptTokens());
        assertEquals(8, g.completionTokens());
    }

    @Test
    void contextEndStopsTheCompletionWithLength() {
        String nearlyFull = "x = 1\n".repeat(101); // 505 tokens
        assertEquals(505, model.tokenizer().encode(nearlyFull).length);
        Generation g = run(nearlyFull, 50, List.of());
        assertEquals(505, g.promptTokens());
        assertEquals(FinishReason.LENGTH, g.finishReason());
        assertEquals(7, g.completionTokens(), "only 7 positions are left in the 512-position context");
    }

    @Test
    void emptyPromptIsAnError() {
        assertThrows(GenerationException.class, () -> run("", 4, List.of()));
        assertThrows(GenerationException.class, () -> run(null, 4, List.of()));
    }

    @Test
    void endOfTextEndsWithEos(@TempDir Path tmp) {
        // A model whose final LayerNorm shift points along token 0's embedding always says <|endoftext|>.
        ModelConfig c = RandomCheckpoint.config(32, 1, 2, 260, true, Activation.GELU_TANH);
        Map<String, float[]> w = RandomCheckpoint.weights(c, 4, RandomCheckpoint.Options.f32());
        float[] shift = w.get("transformer.ln_f.bias");
        float[] wte = w.get("transformer.wte.weight");
        for (int i = 0; i < 32; i++) {
            shift[i] = 1f;
            wte[i] = 1f;
        }
        RandomCheckpoint.write(tmp.resolve("eos"), c, w, RandomCheckpoint.Options.f32());
        Artifact a = TestArtifacts.convert(tmp.resolve("eos"), tmp.resolve("eos-artifact"));
        try (Model m = Model.load(a, RuntimeOptions.defaults())) {
            Generation g = plain(m, ContextPolicy.ERROR).generate(new GenerationRequest("hello", 5, List.of(), Sampling.GREEDY));
            assertEquals(FinishReason.EOS, g.finishReason());
            assertArrayEquals(new int[] {0}, g.tokens());
            assertEquals("", g.completion());
        }
    }

    @Test
    void samplingIsReproducibleBySeed() {
        GenerationRequest r1 = new GenerationRequest(PROMPT, 12, List.of(), new Sampling(0.8, 0.95, 50, 42));
        GenerationRequest r2 = new GenerationRequest(PROMPT, 12, List.of(), new Sampling(0.8, 0.95, 50, 43));
        assertArrayEquals(decoder.generate(r1).tokens(), decoder.generate(r1).tokens());
        boolean differs = false;
        for (long seed = 43; seed < 48 && !differs; seed++) {
            differs = !java.util.Arrays.equals(decoder.generate(r1).tokens(),
                    decoder.generate(new GenerationRequest(PROMPT, 12, List.of(), new Sampling(0.8, 0.95, 50, seed))).tokens());
        }
        assertTrue(differs, "other seeds give other samples");
        assertEquals(12, decoder.generate(r2).completionTokens());
    }
}
