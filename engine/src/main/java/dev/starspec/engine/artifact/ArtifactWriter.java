package dev.starspec.engine.artifact;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.checkpoint.WeightSource;
import dev.starspec.engine.graph.ExternalData;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.Signature;
import dev.starspec.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes an artifact, once: the weights, the graph and the tokenizer go to a sibling {@code .partial} folder,
 * then the manifest with everything known about them (hashes, the bytes a decoded token reads, the quality
 * report), then the record that they were verified, and only then is the folder moved into place. An
 * interrupted conversion never leaves something that looks like a finished artifact.
 */
public final class ArtifactWriter {

    private ArtifactWriter() {}

    /** An artifact without a quality report. */
    public static Artifact write(WeightSource weights, GptBigCodeGraph.Options options, Path tokenizerJson,
                                 Path out, String name, Manifest.Source source, ObjectNode quantParameters) {
        return write(weights, options, tokenizerJson, out, name, source, quantParameters, null);
    }

    /**
     * @param name the model's short name, as it will appear in output rows
     * @param quantParameters the scheme's parameters for the manifest (may be empty)
     * @param quality the quality report for the manifest, or null
     */
    public static Artifact write(WeightSource weights, GptBigCodeGraph.Options options, Path tokenizerJson,
                                 Path out, String name, Manifest.Source source, ObjectNode quantParameters,
                                 com.fasterxml.jackson.databind.JsonNode quality) {
        Path partial = out.resolveSibling(out.getFileName() + ".partial");
        try {
            deleteTree(partial);
            Files.createDirectories(partial);
            Map<String, Manifest.FileEntry> files = new LinkedHashMap<>();
            OnnxMl.ModelProto model;
            try (ExternalData data = new ExternalData(partial.resolve(Artifact.WEIGHTS))) {
                model = GptBigCodeGraph.build(weights, options, data, Manifest.TOOL_VERSION,
                        Map.of("starspec.signature", Integer.toString(Signature.VERSION), "starspec.name", name));
                files.put(Artifact.WEIGHTS, new Manifest.FileEntry(data.size(), data.sha256()));
            }
            try (OutputStream os = Files.newOutputStream(partial.resolve(Artifact.MODEL))) {
                model.writeTo(os);
            }
            Files.copy(tokenizerJson, partial.resolve(Artifact.TOKENIZER), StandardCopyOption.REPLACE_EXISTING);
            for (String f : new String[] {Artifact.MODEL, Artifact.TOKENIZER}) {
                Path p = partial.resolve(f);
                files.put(f, new Manifest.FileEntry(Files.size(p), Artifact.sha256(p)));
            }
            // The runtime reads this: a quantized lm_head computes its rows in pairs (see Signature).
            ObjectNode parameters = quantParameters.deepCopy();
            parameters.put("lm_head", options.scheme().quantizesLmHead() ? options.scheme().name() : "fp32");
            parameters.put("decode_bytes_per_token", decodeBytes(files.get(Artifact.WEIGHTS).bytes(), weights.config(),
                    weights.contains("lm_head.weight"), options.scheme().quantizesLmHead()));
            Manifest manifest = new Manifest(Manifest.FORMAT, Signature.VERSION, Manifest.TOOL_VERSION,
                    Instant.now().toString(), name, source, weights.config().toHfJson(),
                    new Manifest.Quantization(options.scheme().name(), parameters),
                    files, Tokenizer.fingerprint(tokenizerJson), quality);
            manifest.write(partial.resolve(Manifest.FILE));
            Verification.record(partial); // hashed as written: no need to read gigabytes back
            replace(partial, out);
            return Artifact.open(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write artifact " + out + ": " + e.getMessage(), e);
        }
    }

    /**
     * Bytes of weights read to decode one token, for the bandwidth floor: every matrix once. The embedding
     * lookups read one row each, so wte and wpe do not count, unless wte also serves as the float32 lm_head.
     */
    static long decodeBytes(long weightsFile, ModelConfig c, boolean explicitHead, boolean quantizedHead) {
        long wte = 4L * c.vocabSize() * c.nEmbd();
        long wpe = 4L * c.nPositions() * c.nEmbd();
        boolean headIsTiedWte = !explicitHead && !quantizedHead;
        return weightsFile - wpe - (headIsTiedWte ? 0 : wte);
    }

    private static void replace(Path partial, Path out) throws IOException {
        if (Files.exists(out)) {
            boolean isArtifact = Files.isRegularFile(out.resolve(Manifest.FILE));
            boolean empty;
            try (Stream<Path> s = Files.list(out)) {
                empty = s.findAny().isEmpty();
            }
            if (!isArtifact && !empty) {
                throw new IOException(out + " exists and is not an artifact; refusing to overwrite it");
            }
            deleteTree(out);
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
