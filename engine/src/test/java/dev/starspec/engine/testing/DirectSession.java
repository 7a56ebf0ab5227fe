package dev.starspec.engine.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.graph.Signature;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Runs graphs outside the engine's runtime: single ops, and batches of several sequences at once. */
public final class DirectSession {

    private DirectSession() {}

    /** Runs a model file with float inputs and returns the named float output. */
    public static float[] run(Path model, Map<String, float[]> inputs, Map<String, long[]> shapes, String output) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> in = new HashMap<>();
            for (var e : inputs.entrySet()) {
                in.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue()), shapes.get(e.getKey())));
            }
            try (OrtSession.Result r = s.run(in)) {
                FloatBuffer fb = ((OnnxTensor) r.get(output).orElseThrow()).getFloatBuffer();
                float[] out = new float[fb.remaining()];
                fb.get(out);
                return out;
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Last-position logits of every row of a batch of equally long sequences, {@code [rows][vocab]}. */
    public static float[][] lastLogits(Artifact artifact, long[][] rows) {
        ModelConfig c = artifact.config();
        int b = rows.length;
        int n = rows[0].length;
        long[] ids = new long[b * n];
        long[] positions = new long[b * n];
        long[] mask = new long[b * n];
        for (int r = 0; r < b; r++) {
            for (int t = 0; t < n; t++) {
                ids[r * n + t] = rows[r][t];
                positions[r * n + t] = t;
                mask[r * n + t] = 1;
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(artifact.model().toString(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> in = new HashMap<>();
            in.put(Signature.INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {b, n}));
            in.put(Signature.POSITION_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(positions), new long[] {b, n}));
            in.put(Signature.ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {b, n}));
            in.put(Signature.LOGITS_FROM, OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {n - 1}), new long[] {1}));
            for (int l = 0; l < c.nLayer(); l++) {
                in.put(Signature.pastKey(l), OnnxTensor.createTensor(env, FloatBuffer.allocate(0), new long[] {b, 0, c.kvDim()}));
                in.put(Signature.pastValue(l), OnnxTensor.createTensor(env, FloatBuffer.allocate(0), new long[] {b, 0, c.kvDim()}));
            }
            try (OrtSession.Result r = s.run(in, java.util.Set.of(Signature.LOGITS))) {
                FloatBuffer fb = ((OnnxTensor) r.get(Signature.LOGITS).orElseThrow()).getFloatBuffer();
                float[][] out = new float[b][c.vocabSize()];
                for (int row = 0; row < b; row++) {
                    fb.get(out[row]);
                }
                return out;
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
