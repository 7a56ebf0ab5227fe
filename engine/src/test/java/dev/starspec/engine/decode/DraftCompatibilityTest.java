package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A draft whose token ids mean something else is refused before any decoding. */
class DraftCompatibilityTest {

    @TempDir
    Path tmp;

    private Path model(String name, int vocab) {
        ModelConfig c = RandomCheckpoint.config(32, 1, 2, vocab, true, Activation.GELU_TANH);
        RandomCheckpoint.write(tmp.resolve(name), c, RandomCheckpoint.weights(c, 3, RandomCheckpoint.Options.f32()),
                RandomCheckpoint.Options.f32());
        return tmp.resolve(name);
    }

    @Test
    void draftWithAnotherVocabularyIsRefused() {
        try (Model target = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
             Model draft = Model.load(TestArtifacts.convert(model("small", 300), tmp.resolve("a")), RuntimeOptions.defaults())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Decoder.create(
                    target, new Draft.OfModel(draft), DecodeOptions.sequential(DraftLength.fixed(4)), OffHeapMemory.root()));
            assertTrue(e.getMessage().contains("tokenizer") && e.getMessage().contains("300"), e.getMessage());
        }
    }

    @Test
    void sameVocabularySizeButAnotherTokenizerIsRefused() throws IOException {
        Path a = model("a", 300);
        Path b = model("b", 300);
        // Same size, different token: swap the meaning of two byte tokens.
        String json = Files.readString(b.resolve("tokenizer.json")).replace("\"a\":98", "\"a\":99")
                .replace("\"b\":99", "\"b\":98");
        Files.writeString(b.resolve("tokenizer.json"), json);
        try (Model target = Model.load(TestArtifacts.convert(a, tmp.resolve("ta")), RuntimeOptions.defaults());
             Model draft = Model.load(TestArtifacts.convert(b, tmp.resolve("tb")), RuntimeOptions.defaults())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Decoder.create(
                    target, new Draft.OfModel(draft), DecodeOptions.sequential(DraftLength.fixed(4)), OffHeapMemory.root()));
            assertTrue(e.getMessage().contains("fingerprint"), e.getMessage());
        }
    }
}
