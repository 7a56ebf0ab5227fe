package dev.starspec.engine.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.ArtifactWriter;
import dev.starspec.engine.artifact.Manifest;
import dev.starspec.engine.artifact.QuantSpec;
import dev.starspec.engine.checkpoint.Checkpoint;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.checkpoint.ModelShapes;
import dev.starspec.engine.checkpoint.SyntheticWeights;
import dev.starspec.engine.checkpoint.WeightSource;
import dev.starspec.engine.graph.FloatLinear;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.LinearScheme;
import dev.starspec.engine.graph.Smoothing;
import dev.starspec.engine.quant.BlockStream;
import dev.starspec.engine.quant.CalibrationSet;
import dev.starspec.engine.quant.NBitsLinear;
import dev.starspec.engine.quant.QualityReport;
import dev.starspec.engine.quant.SmoothQuant;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.arrow.memory.BufferAllocator;

/**
 * {@code starspec convert}: a checkpoint (or a synthetic shape) to an artifact, in float32 or quantized.
 *
 * <p>Nothing here loads the float32 model whole: int8 calibration and the quality report stream their texts
 * through it one block at a time ({@link BlockStream}), so a model several times larger than memory converts
 * in about two blocks' weights, as {@link MemoryPlan} works out before anything starts. The artifact is
 * written once, when its weights, its decode bytes and its quality report are all known, and published
 * atomically ({@link ArtifactWriter}); the work folder beside it goes whatever happens.
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
        return convert(source, quant, out, null, null, 0, log);
    }

    /**
     * @param heldOut texts to measure the quantized model against float32 on (null: no quality report)
     * @param heldOutName what those texts are, for the manifest
     * @param qualityPositions measure over the first texts covering this many positions (0: all)
     */
    public static Artifact convert(Source source, QuantSpec quant, Path out, List<String> heldOut, String heldOutName,
                                   int qualityPositions, Consumer<String> log) {
        Path work = out.resolveSibling(out.getFileName() + ".work");
        RuntimeOptions runtime = RuntimeOptions.defaults();
        try (WeightSource weights = source.open();
             BufferAllocator memory = OffHeapMemory.root().newChildAllocator("convert " + out, 0, Long.MAX_VALUE)) {
            ModelConfig c = weights.config();
            Path tokenizerJson = source.tokenizerJson(weights);
            boolean quantized = !quant.scheme().equals("fp32");
            boolean wantQuality = quantized && heldOut != null;
            List<String> calibration = quant.scheme().equals("int8")
                    ? CalibrationSet.load(quant.calibration(), quant.calibrationSamples()) : List.of();
            List<int[]> calibrationIds;
            List<int[]> heldOutIds;
            try (Tokenizer tokenizer = Tokenizer.load(tokenizerJson)) {
                calibrationIds = BlockStream.sequences(calibration, tokenizer::encode, c.nPositions(), 1);
                heldOutIds = wantQuality ? BlockStream.sequences(heldOut, tokenizer::encode, c.nPositions(), 2) : List.of();
            }
            MemoryPlan plan = MemoryPlan.of(c, quant, calibrationIds, heldOutIds, qualityPositions);
            log.accept(plan.toString());
            plan.check();

            ObjectNode params = new ObjectMapper().createObjectNode();
            LinearScheme scheme;
            Smoothing smoothing = Smoothing.NONE;
            switch (quant.scheme()) {
                case "int4" -> {
                    scheme = new NBitsLinear("int4", 4, quant.groupSize(), false, quant.quantizeLmHead());
                    params.put("method", "round-to-nearest, asymmetric with zero points");
                    params.put("group_size", quant.groupSize());
                }
                case "int8" -> {
                    log.accept("calibrating SmoothQuant on " + calibrationIds.size() + " samples of "
                            + CalibrationSet.describe(quant.calibration()) + ", block by block");
                    Map<String, float[]> maxima = SmoothQuant.activationMaxima(weights, calibrationIds, work, runtime,
                            memory, log);
                    smoothing = SmoothQuant.factors(maxima, weights, quant.smoothAlpha());
                    scheme = new NBitsLinear("int8", 8, quant.groupSize(), true, quant.quantizeLmHead());
                    params.put("method", "SmoothQuant A8W8: smoothing folded into LayerNorms (explicit 1/s before "
                            + "attn.c_proj and mlp.c_proj), symmetric int8 weights");
                    params.put("smooth_alpha", quant.smoothAlpha());
                    params.put("calibration", CalibrationSet.describe(quant.calibration()));
                    params.put("calibration_samples", calibrationIds.size());
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
            GptBigCodeGraph.Options graph = new GptBigCodeGraph.Options(scheme, smoothing, false);
            ObjectNode quality = null;
            if (wantQuality) {
                log.accept("measuring quality against float32 on " + heldOutIds.size() + " held-out texts, block by block");
                QualityReport report = QualityReport.measure(weights, GptBigCodeGraph.Options.of(new FloatLinear()),
                        graph, heldOutIds, qualityPositions, work, runtime, memory, log);
                log.accept("quality: " + report);
                quality = report.toJson(heldOutName);
            }
            log.accept("writing " + quant.scheme() + " artifact to " + out);
            return ArtifactWriter.write(weights, graph, tokenizerJson, out, source.name(),
                    source.manifestSource(weights), params, quality);
        } finally {
            try {
                ArtifactWriter.deleteTree(work);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove work folder " + work, e);
            }
        }
    }
}
