package dev.starspec.engine.artifact;

import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.graph.Signature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A converted model on disk: {@code model.onnx}, its weights in {@code model.onnx.data}, {@code tokenizer.json}
 * and {@code manifest.json}. Opening one checks that every file is there, whole, made for this runtime, and (once
 * per node, see {@link Verification}) that every byte matches the manifest's sha256.
 */
public record Artifact(Path dir, Manifest manifest, ModelConfig config) {

    public static final String MODEL = "model.onnx";
    public static final String WEIGHTS = "model.onnx.data";
    public static final String TOKENIZER = "tokenizer.json";
    static final List<String> FILES = List.of(MODEL, WEIGHTS, TOKENIZER);

    /**
     * The manifest, if this runtime can use the artifact it describes (format, graph signature, the fields it
     * needs); the files themselves are not looked at, so a fetch can check before it copies gigabytes.
     */
    public static Manifest compatibleManifest(Path manifestFile) {
        Manifest m = Manifest.read(manifestFile);
        if (m.format() != Manifest.FORMAT) {
            throw new ArtifactException(manifestFile, "artifact format " + m.format() + ", this runtime reads "
                    + Manifest.FORMAT + ": re-run convert");
        }
        if (m.signature() != Signature.VERSION) {
            throw new ArtifactException(manifestFile, "graph signature v" + m.signature() + ", this runtime speaks v"
                    + Signature.VERSION + ": re-run convert");
        }
        if (m.files() == null || m.config() == null || m.quantization() == null) {
            throw new ArtifactException(manifestFile, "manifest lacks files, config or quantization");
        }
        return m;
    }

    public static Artifact open(Path dir) {
        Path manifestFile = dir.resolve(Manifest.FILE);
        if (!Files.isRegularFile(manifestFile)) {
            throw new ArtifactException(dir, Files.isDirectory(dir)
                    ? "not an artifact: no " + Manifest.FILE + " (create one with `starspec convert`)"
                    : "no such artifact folder");
        }
        Manifest m = compatibleManifest(manifestFile);
        for (String name : FILES) {
            Manifest.FileEntry expected = m.files().get(name);
            Path file = dir.resolve(name);
            if (expected == null) {
                throw new ArtifactException(manifestFile, "manifest does not list " + name);
            }
            if (!Files.isRegularFile(file)) {
                throw new ArtifactException(file, "missing artifact file");
            }
            long size = size(file);
            if (size != expected.bytes()) {
                throw new ArtifactException(file, (size < expected.bytes() ? "truncated" : "wrong size") + ": "
                        + size + " bytes, manifest says " + expected.bytes());
            }
        }
        Verification.check(dir, m);
        ModelConfig config;
        try {
            config = ModelConfig.fromHfJson(m.config());
        } catch (IllegalArgumentException e) {
            throw new ArtifactException(manifestFile, "bad model config: " + e.getMessage(), e);
        }
        return new Artifact(dir, m, config);
    }

    /** Name and quantization, as it appears in output rows: {@code tiny-starcoder-target:int4}. */
    public String id() {
        return manifest.name() + ":" + manifest.quantization().scheme();
    }

    public Path model() {
        return dir.resolve(MODEL);
    }

    public Path tokenizer() {
        return dir.resolve(TOKENIZER);
    }

    static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new ArtifactException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            byte[] buffer = new byte[1 << 16];
            while (in.read(buffer) >= 0) {
                // digesting
            }
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            throw new ArtifactException(file, "cannot read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
