package dev.starspec.engine.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading an artifact checks its manifest: missing, truncated, damaged or foreign files are refused, the hashes once
 * per node.
 */
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

    /** Same size, a few bytes different, in each file: refused with the file named, on first load. */
    @Test
    void flippedBytesInAnyFileAreRefused() throws IOException {
        Path pristine = tmp.resolve("pristine");
        copyTree(artifact, pristine);
        for (String name : List.of(Artifact.WEIGHTS, Artifact.MODEL, Artifact.TOKENIZER)) {
            deleteTree(artifact);
            copyTree(pristine, artifact);
            Files.deleteIfExists(artifact.resolve(Verification.FILE));
            flip(artifact.resolve(name));
            String m = openError();
            assertTrue(m.startsWith(artifact.resolve(name) + ": content differs from the manifest")
                    && m.contains("re-fetch or re-convert"), m);
        }
    }

    /**
     * The first load hashes and records; later loads trust the record while sizes and times are unchanged (bytes
     * flipped behind the record's back go unseen, which shows that nothing was hashed), and hash again as soon as a
     * time or the manifest changes.
     */
    @Test
    void anUnchangedArtifactIsHashedOnce() throws IOException {
        Path record = artifact.resolve(Verification.FILE);
        assertTrue(Files.isRegularFile(record), "conversion records the hashes it computed");
        Files.delete(record);
        Artifact.open(artifact);
        assertTrue(Files.isRegularFile(record), "the first load records its verification");
        String recorded = Files.readString(record);

        Path weights = artifact.resolve(Artifact.WEIGHTS);
        FileTime time = Files.getLastModifiedTime(weights);
        flip(weights);
        Files.setLastModifiedTime(weights, time);
        Artifact.open(artifact); // trusted: not hashed
        assertEquals(recorded, Files.readString(record));

        Files.setLastModifiedTime(weights, FileTime.fromMillis(time.toMillis() + 2000));
        String m = openError();
        assertTrue(m.contains("model.onnx.data: content differs"), m);
    }

    private static void flip(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(3);
            long at = ch.size() / 2;
            ch.read(b, at);
            b.flip();
            for (int i = 0; i < 3; i++) {
                b.put(i, (byte) (b.get(i) ^ 0x5a));
            }
            ch.write(b, at);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
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
