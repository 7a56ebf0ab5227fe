package dev.starspec.engine.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.ArtifactWriter;
import dev.starspec.engine.artifact.Manifest;
import dev.starspec.engine.artifact.QuantSpec;
import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.Checkpoint;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Draft;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Sampling;
import dev.starspec.engine.graph.FloatLinear;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.Smoothing;
import dev.starspec.engine.quant.BlockStream;
import dev.starspec.engine.quant.CalibrationSet;
import dev.starspec.engine.quant.NBitsLinear;
import dev.starspec.engine.quant.QualityReport;
import dev.starspec.engine.quant.SmoothQuant;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import dev.starspec.engine.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Conversion block by block gives what the whole-model path gave: the same SmoothQuant maxima and factors and
 * the same greedy outputs, the same quality figures; its memory does not grow with depth; and a failure before
 * the end leaves no artifact behind.
 */
class StreamingConversionTest {

    @TempDir
    Path tmp;

    static List<String> calibrationTexts() {
        return CalibrationSet.load(null, 8);
    }

    /** A random checkpoint (MQA or MHA), or the trained tiny target. */
    private Path checkpoint(String kind, int layers) {
        if (kind.equals("tiny")) {
            return ProjectFiles.tinyTarget();
        }
        ModelConfig c = RandomCheckpoint.config(64, layers, 4, 300, kind.equals("mqa"), Activation.GELU_TANH);
        Path dir = tmp.resolve(kind + "-" + layers);
        RandomCheckpoint.write(dir, c, RandomCheckpoint.weights(c, 11, RandomCheckpoint.Options.f32()),
                RandomCheckpoint.Options.f32());
        return dir;
    }

    private static List<int[]> ids(Checkpoint ckpt, List<String> texts, int minimum) {
        try (Tokenizer t = Tokenizer.load(ckpt.tokenizerJson())) {
            return BlockStream.sequences(texts, t::encode, ckpt.config().nPositions(), minimum);
        }
    }

    private Artifact write(Checkpoint ckpt, GptBigCodeGraph.Options options, String name) {
        return ArtifactWriter.write(ckpt, options, ckpt.tokenizerJson(), tmp.resolve(name), name,
                new Manifest.Source("checkpoint", ckpt.dir().toString(), null, null, null),
                new ObjectMapper().createObjectNode());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tiny", "mqa", "mha"})
    void streamingCalibrationMatchesTheWholeModel(String kind) {
        try (Checkpoint ckpt = Checkpoint.open(checkpoint(kind, 3))) {
            List<String> texts = calibrationTexts();
            Map<String, float[]> whole;
            try (Model probe = Model.load(write(ckpt, new GptBigCodeGraph.Options(new FloatLinear(), Smoothing.NONE,
                    true), "probe"), RuntimeOptions.defaults())) {
                whole = SmoothQuant.activationMaxima(probe, texts);
            }
            Map<String, float[]> streamed = SmoothQuant.activationMaxima(ckpt, ids(ckpt, texts, 1),
                    tmp.resolve("work"), RuntimeOptions.defaults(), OffHeapMemory.root(), m -> { });
            assertEquals(whole.keySet(), streamed.keySet());
            Smoothing a = SmoothQuant.factors(whole, ckpt, 0.5);
            Smoothing b = SmoothQuant.factors(streamed, ckpt, 0.5);
            for (String layer : whole.keySet()) {
                assertClose(whole.get(layer), streamed.get(layer), layer + " maxima");
                assertClose(a.scales(layer), b.scales(layer), layer + " factors");
            }

            NBitsLinear int8 = new NBitsLinear("int8", 8, 128, true, true);
            Artifact fromWhole = write(ckpt, new GptBigCodeGraph.Options(int8, a, false), "int8-whole");
            Artifact fromStream = write(ckpt, new GptBigCodeGraph.Options(int8, b, false), "int8-streamed");
            assertEquals(greedy(fromWhole), greedy(fromStream), kind + ": greedy outputs");
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            float tolerance = 1e-5f * Math.max(1f, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance,
                    what + "[" + i + "]: " + expected[i] + " vs " + actual[i]);
        }
    }

    private static List<String> greedy(Artifact a) {
        try (Model m = Model.load(a, RuntimeOptions.defaults())) {
            Decoder d = Decoder.create(m, new Draft.None(), DecodeOptions.sequential(DraftLength.fixed(1)),
                    OffHeapMemory.root());
            // short enough for a random checkpoint's 64 positions
            return HumanEvalTexts.prompts().subList(0, 6).stream().map(p -> p.substring(0, 30))
                    .map(p -> d.generate(new GenerationRequest(p, 16, List.of(), Sampling.GREEDY)).completion()).toList();
        }
    }

    @Test
    void streamingQualityReportMatchesTheWholeModelReport() {
        List<String> heldOut = HumanEvalTexts.solvedPrograms().subList(0, 40);
        try (Checkpoint ckpt = Checkpoint.open(ProjectFiles.tinyTarget())) {
            Smoothing smoothing = SmoothQuant.factors(SmoothQuant.activationMaxima(ckpt, ids(ckpt, calibrationTexts(), 1),
                    tmp.resolve("work"), RuntimeOptions.defaults(), OffHeapMemory.root(), m -> { }), ckpt, 0.5);
            for (NBitsLinear scheme : List.of(new NBitsLinear("int8", 8, 256, true, true),
                    new NBitsLinear("int4", 4, 128, false, true))) {
                GptBigCodeGraph.Options quantized = new GptBigCodeGraph.Options(scheme,
                        scheme.name().equals("int8") ? smoothing : Smoothing.NONE, false);
                QualityReport whole;
                try (Model f = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
                     Model q = Model.load(write(ckpt, quantized, "q-" + scheme.name()), RuntimeOptions.defaults())) {
                    whole = QualityReport.measure(f, q, heldOut, OffHeapMemory.root());
                }
                QualityReport streamed = QualityReport.measure(ckpt, GptBigCodeGraph.Options.of(new FloatLinear()),
                        quantized, ids(ckpt, heldOut, 2), 0, tmp.resolve("work"), RuntimeOptions.defaults(),
                        OffHeapMemory.root(), m -> { });
                System.out.println(scheme.name() + " whole: " + whole + "\n" + scheme.name() + " streamed: " + streamed);
                assertEquals(whole.positions(), streamed.positions());
                assertEquals(whole.greedyAgreement(), streamed.greedyAgreement(), 1e-3, scheme.name() + " agreement");
                assertEquals(whole.meanRelativeLogitError(), streamed.meanRelativeLogitError(), 1e-3, scheme.name());
                assertEquals(whole.perplexityIncrease(), streamed.perplexityIncrease(), 1e-3, scheme.name() + " ppl");
            }
        }
    }

    /** Peak accounted memory of a streaming calibration, for a checkpoint of the given depth. */
    private long calibrationPeak(int layers) {
        try (Checkpoint ckpt = Checkpoint.open(checkpoint("mqa", layers));
             BufferAllocator memory = new RootAllocator(Long.MAX_VALUE)) {
            SmoothQuant.activationMaxima(ckpt, ids(ckpt, calibrationTexts(), 1), tmp.resolve("work-" + layers),
                    RuntimeOptions.defaults(), memory, m -> { });
            assertEquals(0, memory.getAllocatedMemory(), "everything given back");
            return memory.getPeakMemoryAllocation();
        }
    }

    @Test
    void calibrationMemoryDoesNotGrowWithDepth() {
        long shallow = calibrationPeak(4);
        long deep = calibrationPeak(32);
        System.out.println("calibration peak accounted memory: 4 layers " + shallow + " B, 32 layers " + deep + " B");
        assertTrue(shallow > 0);
        assertEquals(shallow, deep, 0.05 * shallow, "peak of 4 vs 32 layers");
        assertTrue(Files.notExists(tmp.resolve("work-32")) || isEmpty(tmp.resolve("work-32")), "blocks cleaned up");
    }

    private static boolean isEmpty(Path dir) {
        try (var s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** What cannot fit is refused up front, with the numbers: a conversion by its plan, a load by its weights. */
    @Test
    void tooLargeIsRefusedWithTheNumbers() {
        MemoryPlan plan = new MemoryPlan(30_000_000_000L, 1_000_000_000L, 2_000_000_000L, 24_000_000_000L);
        String refused = assertThrows(IllegalArgumentException.class, plan::check).getMessage();
        assertTrue(refused.contains("about 30.0 GB") && refused.contains("24.0 GB") && refused.contains("calibration 30.0 GB"),
                refused);
        new MemoryPlan(1_000_000_000L, 0, 1_000_000_000L, 24_000_000_000L).check();

        Artifact real = TestArtifacts.tinyTarget();
        Manifest m = real.manifest();
        Map<String, Manifest.FileEntry> files = new java.util.HashMap<>(m.files());
        files.put(Artifact.WEIGHTS, new Manifest.FileEntry(4 * Model.physicalMemory(), "0"));
        Artifact huge = new Artifact(real.dir(), new Manifest(m.format(), m.signature(), m.toolVersion(), m.createdAt(),
                m.name(), m.source(), m.config(), m.quantization(), files, m.tokenizerFingerprint(), m.quality()),
                real.config());
        String message = assertThrows(dev.starspec.engine.artifact.ArtifactException.class,
                () -> Model.load(huge, RuntimeOptions.defaults())).getMessage();
        assertTrue(message.startsWith(real.dir().toString()) && message.contains("cannot be loaded here"), message);
    }

    /** The 15.5B shape plans within the 8 GB its int8 conversion is meant to need with 8 calibration samples. */
    @Test
    void starcoderInt8PlansUnderEightGigabytes() {
        ModelConfig c = dev.starspec.engine.checkpoint.ModelShapes.parse("starcoder");
        List<int[]> samples = java.util.Collections.nCopies(8, new int[200]);
        MemoryPlan plan = MemoryPlan.of(c, new QuantSpec("int8", 256, 0.5, null, 8, true), samples, List.of(), 0);
        assertTrue(plan.peak() < 8e9, plan.toString());
        assertTrue(plan.calibration() > 2 * 4 * MemoryPlan.blockParameters(c), "at least two float32 blocks: " + plan);
    }

    @Test
    void aFailureDuringTheQualityPassLeavesNoArtifactAndARerunCompletesIt() {
        Path out = tmp.resolve("out").resolve("tiny-int8");
        List<String> heldOut = HumanEvalTexts.solvedPrograms().subList(0, 10);
        QuantSpec int8 = new QuantSpec("int8", 256, 0.5, null, 8, true);
        Converter.Source source = Converter.Source.checkpoint(ProjectFiles.tinyTarget());
        RuntimeException injected = assertThrows(RuntimeException.class, () -> Converter.convert(source, int8, out,
                heldOut, "held out", 0, m -> {
                    if (m.startsWith("quality: block 2/")) {
                        throw new IllegalStateException("injected failure");
                    }
                }));
        assertEquals("injected failure", injected.getMessage());
        assertTrue(Files.notExists(out), "no artifact after a failure");
        assertTrue(Files.notExists(out.resolveSibling("tiny-int8.partial")));
        assertTrue(Files.notExists(out.resolveSibling("tiny-int8.work")));

        Artifact a = Converter.convert(source, int8, out, heldOut, "held out", 0, m -> { });
        assertNotNull(a.manifest().quality(), "the rerun's manifest has its quality report");
        assertTrue(a.manifest().quality().get("greedy_agreement").asDouble() > 0.9, a.manifest().quality().toString());
        assertTrue(a.manifest().quantization().parameters().get("decode_bytes_per_token").asLong() > 0);
        Artifact.open(out);
    }
}
