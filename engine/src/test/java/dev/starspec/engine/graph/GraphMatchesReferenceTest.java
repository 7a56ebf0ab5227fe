package dev.starspec.engine.graph;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.DType;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.ReferenceGptBigCode;
import dev.starspec.engine.testing.TestArtifacts;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The ONNX graph computes what GPTBigCode defines, for every supported variant of config and dtype. */
class GraphMatchesReferenceTest {

    static Stream<Arguments> variants() {
        return Stream.of(
                Arguments.of("MQA tanh F32", RandomCheckpoint.config(64, 2, 4, 300, true, Activation.GELU_TANH),
                        RandomCheckpoint.Options.f32()),
                Arguments.of("MHA erf F16 sharded", RandomCheckpoint.config(48, 3, 3, 280, false, Activation.GELU),
                        RandomCheckpoint.Options.f32().with(DType.F16).sharded(3)),
                Arguments.of("MQA erf BF16 explicit lm_head", RandomCheckpoint.config(32, 2, 2, 260, true, Activation.GELU),
                        RandomCheckpoint.Options.f32().with(DType.BF16).withLmHead()),
                Arguments.of("MHA tanh F32 one head", RandomCheckpoint.config(16, 1, 1, 257, false, Activation.GELU_TANH),
                        RandomCheckpoint.Options.f32()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void logitsMatchDoublePrecisionReference(String label, ModelConfig config, RandomCheckpoint.Options options,
                                             @TempDir Path tmp) {
        Map<String, float[]> weights = RandomCheckpoint.weights(config, label.hashCode(), options);
        RandomCheckpoint.write(tmp.resolve("ckpt"), config, weights, options);
        Artifact artifact = TestArtifacts.convert(tmp.resolve("ckpt"), tmp.resolve("artifact"));

        int[] tokens = new Random(7).ints(23, 0, config.vocabSize()).toArray();
        double[][] expected = new ReferenceGptBigCode(config, weights).logits(tokens);

        try (Model model = Model.load(artifact, RuntimeOptions.defaults());
             Batch seq = model.newBatch(OffHeapMemory.root(), new Batch.Limits(1, 32, 32, 32))) {
            seq.add(0, tokens, 0, tokens.length, 0);
            Logits got = seq.run(false);
            double scale = 0;
            double worst = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < config.vocabSize(); v++) {
                    scale = Math.max(scale, Math.abs(expected[t][v]));
                    worst = Math.max(worst, Math.abs(expected[t][v] - got.get(t, v)));
                }
            }
            assertTrue(scale > 0.1, "degenerate logits, scale " + scale);
            assertTrue(worst < 1e-4 * scale, label + ": max |diff| " + worst + " vs logit scale " + scale);
        }
    }
}
