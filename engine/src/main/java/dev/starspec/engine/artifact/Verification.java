package dev.starspec.engine.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The record that an artifact's files were hashed and matched its manifest: {@code .verified.json} beside the
 * files, holding the manifest's own hash and each file's size and modification time at that moment. Hashing a
 * 15 GB model takes seconds; a node does it once, after a fetch or on the first load of a local artifact, and again
 * only when the manifest or a file's size or time has changed since. A folder that cannot be written (a read-only
 * share) keeps its record in the per-node cache instead, under a key of the folder's path.
 */
final class Verification {

    static final String FILE = ".verified.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Verification() {}

    /** Hashes the files unless a record says they are unchanged since they last matched; throws on a mismatch. */
    static void check(Path dir, Manifest manifest) {
        ObjectNode now = state(dir);
        if (now.toString().equals(String.valueOf(read(dir)))) {
            return;
        }
        for (String name : Artifact.FILES) {
            Path file = dir.resolve(name);
            String expected = manifest.files().get(name).sha256();
            String actual = Artifact.sha256(file);
            if (!actual.equals(expected)) {
                throw new ArtifactException(file, "content differs from the manifest (sha256 " + actual
                        + ", manifest says " + expected + "): the file was damaged or changed after conversion; "
                        + "re-fetch or re-convert the artifact");
            }
        }
        write(dir, now);
    }

    /** Records files as verified without hashing them: for the writer, which hashed them as it wrote them. */
    static void record(Path dir) {
        write(dir, state(dir));
    }

    /** What a record holds: the manifest's hash, and each file's size and time. */
    private static ObjectNode state(Path dir) {
        ObjectNode n = JSON.createObjectNode();
        try {
            n.put("manifest_sha256", sha256(Files.readAllBytes(dir.resolve(Manifest.FILE))));
            ObjectNode files = n.putObject("files");
            for (String name : Artifact.FILES) {
                Path f = dir.resolve(name);
                files.putObject(name).put("bytes", Files.size(f)).put("modified_us",
                        Files.getLastModifiedTime(f).to(java.util.concurrent.TimeUnit.MICROSECONDS)); // what a JDK can set back
            }
        } catch (IOException e) {
            throw new ArtifactException(dir, "cannot read: " + e.getMessage(), e);
        }
        return n;
    }

    private static JsonNode read(Path dir) {
        for (Path p : new Path[] {dir.resolve(FILE), fallback(dir)}) {
            try {
                if (Files.isRegularFile(p)) {
                    return JSON.readTree(p.toFile());
                }
            } catch (IOException unreadable) {
                // as good as no record: hash again
            }
        }
        return null;
    }

    private static void write(Path dir, ObjectNode state) {
        byte[] bytes = state.toPrettyString().getBytes(StandardCharsets.UTF_8);
        for (Path p : new Path[] {dir.resolve(FILE), fallback(dir)}) {
            try {
                Files.createDirectories(p.getParent());
                Path tmp = Files.createTempFile(p.getParent(), FILE, ".tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (IOException | UnsupportedOperationException notWritable) {
                // try the next place; with none, the next load hashes again
            }
        }
    }

    private static Path fallback(Path dir) {
        String key = sha256(dir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
        return NodeCache.root().resolve("verified").resolve(key.substring(0, 32) + ".json");
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
