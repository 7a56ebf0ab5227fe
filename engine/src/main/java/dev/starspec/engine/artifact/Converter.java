package dev.starspec.engine.artifact;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.checkpoint.Checkpoint;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.checkpoint.ModelShapes;
import dev.starspec.engine.checkpoint.SyntheticWeights;
import dev.starspec.engine.checkpoint.WeightSource;
import dev.starspec.engine.graph.FloatLinear;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.LinearScheme;
import dev.starspec.engine.graph.Smoothing;
import dev.starspec.engine.quant.CalibrationSet;
import dev.starspec.engine.quant.NBitsLinear;
import dev.starspec.engine.quant.QualityReport;
import dev.starspec.engine.quant.SmoothQuant;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code starspec convert}: a checkpoint (or a synthetic shape) to an artifact, in float32 or quantized.
 *
 * <p>int8 needs the float32 model first, to calibrate SmoothQuant; a quality report against float32 needs it too.
 * That float32 model is built in a work folder beside the output and deleted afterwards.
 */
public final class Converter {

    /** Where the weights come from: a checkpoint folder, or a named shape with random weights. */
    public record Source(Path checkpoint, String shape, long seed, Path tokenizer) {

        public static Source checkpoint(Path dir) {
            return new Source(dir, null, 0, null);
        }

        public static Source synthetic(String shape, long seed, Path tokenizer) {
            return new Source(null, shape, seed, tokenizer);
        }

        WeightSource open() {
            if (checkpoint != null) {
                return Checkpoint.open(checkpoint);
            }
            ModelConfig config = ModelShapes.parse(shape);
            return new SyntheticWeights(shape, config, seed);
        }

        Path tokenizerJson(WeightSource w) {
            if (w instanceof Checkpoint c) {
                return c.tokenizerJson();
            }
            if (tokenizer == null || !Files.isRegularFile(tokenizer)) {
                throw new IllegalArgumentException("a synthetic model needs --tokenizer FILE (tokenizer.json), got " + tokenizer);
            }
            return tokenizer;
        }

        String name() {
            return checkpoint != null ? checkpoint.toAbsolutePath().normalize().getFileName().toString()
                    : "synthetic-" + shape.replaceAll("[^A-Za-z0-9_.-]", "_");
        }

        Manifest.Source manifestSource(WeightSource w) {
            return w instanceof Checkpoint c
                    ? new Manifest.Source("checkpoint", c.dir().toAbsolutePath().normalize().toString(), c.sha256(), null, null)
                    : new Manifest.Source("synthetic", null, null, shape, seed);
        }
    }

    private Converter() {}

    public static Artifact convert(Source source, QuantSpec quant, Path out, Consumer<String> log) {
        return convert(source, quant, out, null, null, log);
    }

    /**
     * @param heldOut texts to measure the quantized model against float32 on (null: no quality report)
     * @param heldOutName what those texts are, for the manifest
     */
    public static Artifact convert(Source source, QuantSpec quant, Path out, List<String> heldOut, String heldOutName,
                                   Consumer<String> log) {
        Path work = out.resolveSibling(out.getFileName() + ".work");
        try (WeightSource weights = source.open()) {
            ModelConfig c = weights.config();
            Path tokenizer = source.tokenizerJson(weights);
            boolean quantized = !quant.scheme().equals("fp32");
            boolean wantQuality = quantized && heldOut != null;
            if (quant.scheme().equals("int8") && float32Bytes(c) > 0.8 * physicalMemory()) {
                throw new IllegalArgumentException(String.format("int8 calibration runs the float32 model (%.1f GB) and "
                        + "this machine has %.1f GB of memory: convert on a larger machine, or use --quant int4",
                        float32Bytes(c) / 1e9, physicalMemory() / 1e9));
            }
            ObjectNode params = new ObjectMapper().createObjectNode();
            Artifact reference = null;
            if (quant.scheme().equals("int8") || wantQuality) {
                log.accept("building the float32 model for " + (quant.scheme().equals("int8") ? "calibration" : "the quality report"));
                reference = ArtifactWriter.write(weights, new GptBigCodeGraph.Options(new FloatLinear(), Smoothing.NONE, true),
                        tokenizer, work.resolve("fp32"), source.name(), source.manifestSource(weights), params.deepCopy());
            }
            LinearScheme scheme;
            Smoothing smoothing = Smoothing.NONE;
            switch (quant.scheme()) {
                case "int4" -> {
                    scheme = new NBitsLinear("int4", 4, quant.groupSize(), false, quant.quantizeLmHead());
                    params.put("method", "round-to-nearest, asymmetric with zero points");
                    params.put("group_size", quant.groupSize());
                }
                case "int8" -> {
                    List<String> calibration = CalibrationSet.load(quant.calibration(), quant.calibrationSamples());
                    log.accept("calibrating SmoothQuant on " + calibration.size() + " samples of "
                            + CalibrationSet.describe(quant.calibration()));
                    Map<String, float[]> maxima;
                    try (Model fp32 = Model.load(reference, RuntimeOptions.defaults())) {
                        maxima = SmoothQuant.activationMaxima(fp32, calibration);
                    }
                    smoothing = SmoothQuant.factors(maxima, weights, quant.smoothAlpha());
                    scheme = new NBitsLinear("int8", 8, quant.groupSize(), true, quant.quantizeLmHead());
                    params.put("method", "SmoothQuant A8W8: smoothing folded into LayerNorms (explicit 1/s before "
                            + "attn.c_proj and mlp.c_proj), symmetric int8 weights");
                    params.put("smooth_alpha", quant.smoothAlpha());
                    params.put("calibration", CalibrationSet.describe(quant.calibration()));
                    params.put("calibration_samples", calibration.size());
                    params.put("group_size", quant.groupSize());
                }
                default -> scheme = new FloatLinear();
            }
            if (quantized) {
                params.put("kernel", "com.microsoft.MatMulNBits bits=" + (quant.scheme().equals("int4") ? 4 : 8)
                        + " block_size=" + quant.groupSize() + " accuracy_level=4 (activations int8 per row and block, "
                        + "batch-invariant)");
                params.put("embedding", "fp32 (a lookup reads one row per token)");
            }
            log.accept("writing " + quant.scheme() + " artifact to " + out);
            Artifact artifact = ArtifactWriter.write(weights, new GptBigCodeGraph.Options(scheme, smoothing, false),
                    tokenizer, out, source.name(), source.manifestSource(weights), params);
            artifact = recordDecodeBytes(artifact, c, weights.contains("lm_head.weight"), scheme.quantizesLmHead());
            if (wantQuality) {
                log.accept("measuring quality against float32 on " + heldOut.size() + " held-out texts");
                try (Model ref = Model.load(reference, RuntimeOptions.defaults());
                     Model q = Model.load(artifact, RuntimeOptions.defaults())) {
                    QualityReport report = QualityReport.measure(ref, q, heldOut, OffHeapMemory.root());
                    log.accept("quality: " + report);
                    artifact = ArtifactWriter.updateManifest(artifact, artifact.manifest().withQuality(report.toJson(heldOutName)));
                }
            }
            return artifact;
        } finally {
            try {
                ArtifactWriter.deleteTree(work);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove work folder " + work, e);
            }
        }
    }

    /** The weights' size in float32, which calibration and the quality report need in memory. */
    public static long float32Bytes(ModelConfig c) {
        return 4L * c.parameterCount();
    }

    public static long physicalMemory() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
    }

    /**
     * Bytes of weights read to decode one token, for the bandwidth floor: every matrix once. The embedding
     * lookups read one row each, so wte and wpe do not count, unless wte also serves as the float32 lm_head.
     */
    private static Artifact recordDecodeBytes(Artifact a, ModelConfig c, boolean explicitHead, boolean quantizedHead) {
        long file = a.manifest().files().get(Artifact.WEIGHTS).bytes();
        long wte = 4L * c.vocabSize() * c.nEmbd();
        long wpe = 4L * c.nPositions() * c.nEmbd();
        boolean headIsTiedWte = !explicitHead && !quantizedHead;
        long perToken = file - wpe - (headIsTiedWte ? 0 : wte);
        ObjectNode params = a.manifest().quantization().parameters().deepCopy();
        params.put("decode_bytes_per_token", perToken);
        Manifest m = a.manifest();
        return ArtifactWriter.updateManifest(a, new Manifest(m.format(), m.signature(), m.toolVersion(), m.createdAt(),
                m.name(), m.source(), m.config(), new Manifest.Quantization(m.quantization().scheme(), params),
                m.files(), m.tokenizerFingerprint(), m.quality()));
    }
}
