package dev.starspec.engine.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Runs single-op graphs outside the engine's runtime, and batches of whole sequences through it. */
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

    /**
     * Last-position logits of every row of a batch of sequences, all in one pass of the runtime (rows may differ in
     * length), {@code [rows][vocab]}.
     */
    public static float[][] lastLogits(Artifact artifact, long[][] rows) {
        int b = rows.length;
        int total = 0;
        int longest = 0;
        for (long[] r : rows) {
            total += r.length;
            longest = Math.max(longest, r.length);
        }
        try (Model model = Model.load(artifact, RuntimeOptions.defaults());
             Batch batch = model.newBatch(OffHeapMemory.root(), new Batch.Limits(b, longest, total, b))) {
            for (int r = 0; r < b; r++) {
                int[] ids = java.util.Arrays.stream(rows[r]).mapToInt(x -> (int) x).toArray();
                batch.add(r, ids, 0, ids.length, ids.length - 1);
            }
            Logits logits = batch.run(false);
            float[][] out = new float[b][];
            for (int r = 0; r < b; r++) {
                out[r] = logits.row(r);
            }
            return out;
        }
    }
}
