package dev.starspec.engine.artifact;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code manifest.json}: what an artifact is and how it was made, enough to reproduce it and to refuse it
 * when it does not fit this runtime.
 *
 * @param format artifact layout version ({@link #FORMAT})
 * @param signature graph I/O version ({@link dev.starspec.engine.graph.Signature#VERSION})
 * @param config the model's Hugging Face config
 * @param files name to size and hash of every file of the artifact
 * @param tokenizerFingerprint hash of the vocabulary, merges and special tokens: two artifacts can speculate
 *     together only when these agree
 * @param quality quantization quality measured against float32, or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        int format,
        int signature,
        String toolVersion,
        String createdAt,
        String name,
        Source source,
        ObjectNode config,
        Quantization quantization,
        Map<String, FileEntry> files,
        String tokenizerFingerprint,
        JsonNode quality) {

    public static final int FORMAT = 1;
    public static final String TOOL_VERSION = "0.2.0";
    public static final String FILE = "manifest.json";

    /** Where the weights came from: a checkpoint (path and SHA-256) or a synthetic shape and seed. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Source(String kind, String path, String sha256, String shape, Long seed) {}

    /**
     * @param scheme fp32, int8 or int4
     * @param parameters scheme parameters: group size, alpha, kernel, calibration set...
     */
    public record Quantization(String scheme, ObjectNode parameters) {}

    public record FileEntry(long bytes, String sha256) {}

    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public static Manifest read(Path file) {
        try {
            return JSON.readValue(file.toFile(), Manifest.class);
        } catch (IOException e) {
            throw new ArtifactException(file, "unreadable manifest: " + e.getMessage(), e);
        }
    }

    public void write(Path file) {
        try {
            Files.writeString(file, JSON.writeValueAsString(this) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public Manifest withQuality(JsonNode newQuality) {
        return new Manifest(format, signature, toolVersion, createdAt, name, source, config, quantization, files,
                tokenizerFingerprint, newQuality);
    }
}
