package dev.starspec.engine.artifact;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading an artifact checks its manifest: missing, truncated, modified or foreign files are refused. */
class ArtifactCheckTest {

    @TempDir
    Path tmp;
    Path artifact;

    @BeforeEach
    void convert() {
        ModelConfig c = RandomCheckpoint.config(32, 1, 2, 260, true, Activation.GELU_TANH);
        RandomCheckpoint.write(tmp.resolve("ckpt"), c, RandomCheckpoint.weights(c, 2, RandomCheckpoint.Options.f32()),
                RandomCheckpoint.Options.f32());
        artifact = TestArtifacts.convert(tmp.resolve("ckpt"), tmp.resolve("artifact")).dir();
    }

    private String openError() {
        return assertThrows(ArtifactException.class, () -> Artifact.open(artifact)).getMessage();
    }

    @Test
    void truncatedWeights() throws IOException {
        Path data = artifact.resolve(Artifact.WEIGHTS);
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(data) / 2);
        }
        String m = openError();
        assertTrue(m.contains("model.onnx.data") && m.contains("truncated"), m);
    }

    @Test
    void modifiedGraph() throws IOException {
        byte[] bytes = Files.readAllBytes(artifact.resolve(Artifact.MODEL));
        bytes[bytes.length / 2] ^= 1;
        Files.write(artifact.resolve(Artifact.MODEL), bytes);
        String m = openError();
        assertTrue(m.contains("model.onnx") && m.contains("modified"), m);
    }

    @Test
    void missingTokenizer() throws IOException {
        Files.delete(artifact.resolve(Artifact.TOKENIZER));
        String m = openError();
        assertTrue(m.contains("tokenizer.json") && m.contains("missing"), m);
    }

    @Test
    void notAnArtifact() throws IOException {
        Files.delete(artifact.resolve(Manifest.FILE));
        String m = openError();
        assertTrue(m.contains("not an artifact") && m.contains("convert"), m);
    }

    @Test
    void interruptedConversionLeavesNoArtifact() {
        assertTrue(Files.notExists(tmp.resolve("artifact.partial")));
    }
}
