package dev.starspec.engine.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.ArtifactWriter;
import dev.starspec.engine.artifact.Manifest;
import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.Checkpoint;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.graph.FloatLinear;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.Smoothing;
import dev.starspec.engine.testing.DirectSession;
import dev.starspec.engine.testing.RandomCheckpoint;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoothing alone (no quantization) changes nothing but rounding: (x / s)(W diag(s))^T = x W^T. */
class SmoothingTest {

    @Test
    void smoothedFloatModelComputesTheSameLogits(@TempDir Path tmp) {
        ModelConfig c = RandomCheckpoint.config(64, 2, 4, 280, true, Activation.GELU);
        RandomCheckpoint.write(tmp.resolve("ckpt"), c, RandomCheckpoint.weights(c, 8, RandomCheckpoint.Options.f32()),
                RandomCheckpoint.Options.f32());
        Random r = new Random(4);
        Map<String, float[]> factors = new HashMap<>();
        for (GptBigCodeGraph.Linear l : GptBigCodeGraph.linearLayers(c)) {
            float[] s = new float[l.in()];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) Math.exp(r.nextGaussian() * 1.5); // spans ~0.01 .. 100
            }
            factors.put(l.name(), s);
        }
        Artifact plain;
        Artifact smoothed;
        try (Checkpoint ckpt = Checkpoint.open(tmp.resolve("ckpt"))) {
            Manifest.Source src = new Manifest.Source("checkpoint", "test", null, null, null);
            plain = ArtifactWriter.write(ckpt, GptBigCodeGraph.Options.of(new FloatLinear()), ckpt.tokenizerJson(),
                    tmp.resolve("plain"), "t", src, new ObjectMapper().createObjectNode());
            Smoothing smoothing = factors::get;
            smoothed = ArtifactWriter.write(ckpt, new GptBigCodeGraph.Options(new FloatLinear(), smoothing, false),
                    ckpt.tokenizerJson(), tmp.resolve("smoothed"), "t", src, new ObjectMapper().createObjectNode());
        }
        long[][] tokens = {new Random(5).longs(16, 0, 280).toArray()};
        float[] a = DirectSession.lastLogits(plain, tokens)[0];
        float[] b = DirectSession.lastLogits(smoothed, tokens)[0];
        BatchInvarianceTest.assertRelativelyEqual(a, b, 1e-5, "smoothed vs plain");
    }

    @Test
    void factorsFollowTheFormula() {
        assertEquals(Math.sqrt(8.0) / Math.sqrt(0.5), SmoothQuant.factor(8f, 0.5f, 0.5), 1e-5);
        assertEquals(8.0, SmoothQuant.factor(8f, 0.5f, 1.0), 1e-5);
        assertEquals(1.0, SmoothQuant.factor(0f, 0.5f, 0.5));
        assertTrue(SmoothQuant.factor(1e30f, 1e-30f, 0.9) <= 1e5f);
    }
}
