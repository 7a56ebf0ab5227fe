package dev.starspec.engine.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.convert.Converter;
import dev.starspec.engine.artifact.QuantSpec;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.engine.testing.TestArtifacts;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * On the trained tiny target, over HumanEval's prompts with their canonical solutions (code neither model nor
 * calibration saw): int8 keeps at least 95% of greedy next-token choices and perplexity within 2%, int4 at
 * least 90% and 5%.
 */
class QuantizationQualityTest {

    @TempDir
    static Path tmp;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"int8, 0.95, 0.02", "int4, 0.90, 0.05"})
    void quantizedTinyTargetStaysCloseToFloat32(String scheme, double minAgreement, double maxPerplexityIncrease) {
        List<String> heldOut = HumanEvalTexts.solvedPrograms();
        Artifact quantized = Converter.convert(Converter.Source.checkpoint(ProjectFiles.tinyTarget()),
                QuantSpec.of(scheme), tmp.resolve(scheme), msg -> { });
        try (Model f = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
             Model q = Model.load(quantized, RuntimeOptions.defaults())) {
            QualityReport r = QualityReport.measure(f, q, heldOut, OffHeapMemory.root());
            System.out.println(scheme + ": " + r);
            assertTrue(r.greedyAgreement() >= minAgreement, scheme + " agreement: " + r);
            assertTrue(r.perplexityIncrease() < maxPerplexityIncrease, scheme + " perplexity: " + r);
        }
    }
}
