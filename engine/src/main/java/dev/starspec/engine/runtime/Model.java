package dev.starspec.engine.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.ArtifactException;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.graph.Signature;
import dev.starspec.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A loaded artifact: its ONNX Runtime session and its tokenizer. Load once per process and share: a session
 * runs any number of {@link Sequence}s, from any threads.
 */
public final class Model implements AutoCloseable {

    private final Artifact artifact;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Tokenizer tokenizer;
    private final RuntimeOptions options;

    private Model(Artifact artifact, OrtEnvironment env, OrtSession session, Tokenizer tokenizer, RuntimeOptions options) {
        this.artifact = artifact;
        this.env = env;
        this.session = session;
        this.tokenizer = tokenizer;
        this.options = options;
    }

    public static Model load(Artifact artifact, RuntimeOptions options) {
        try (OrtSession.SessionOptions so = OrtRuntime.sessionOptions(options)) {
            OrtEnvironment env = OrtRuntime.environment(options);
            OrtSession session = env.createSession(artifact.model().toString(), so);
            Tokenizer tokenizer = Tokenizer.load(artifact.tokenizer());
            return new Model(artifact, env, session, tokenizer, options);
        } catch (OrtException e) {
            throw new ArtifactException(artifact.model(), "ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
    }

    public static Model load(java.nio.file.Path artifactDir, RuntimeOptions options) {
        return load(Artifact.open(artifactDir), options);
    }

    public Artifact artifact() {
        return artifact;
    }

    public ModelConfig config() {
        return artifact.config();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public RuntimeOptions options() {
        return options;
    }

    /** {@code name:quant}, as output rows report it. */
    public String id() {
        return artifact.id();
    }

    /**
     * A new, empty sequence whose KV cache holds {@code capacity} positions and whose forward passes take up to
     * {@code maxStepTokens} tokens and return up to {@code maxLogitRows} rows of logits.
     */
    public Sequence newSequence(BufferAllocator allocator, int capacity, int maxStepTokens, int maxLogitRows) {
        return new Sequence(this, allocator, capacity, maxStepTokens, maxLogitRows);
    }

    /**
     * Runs {@code count} tokens (already in the sequence's input buffers) after the cached prefix. ONNX Runtime
     * reads the past straight from the cache and writes the new keys/values into the cache's next slots and
     * the logits into the sequence's logits buffer: no copies on the Java side.
     */
    void forward(Sequence seq, int count, int logitsFrom, boolean withProbabilities) {
        ModelConfig c = config();
        KvCache cache = seq.cache();
        int past = cache.length();
        if (past + count > cache.capacity()) {
            throw new IllegalStateException("KV cache overflow: " + past + " + " + count + " > " + cache.capacity());
        }
        int rows = count - logitsFrom;
        List<OnnxTensor> owned = new ArrayList<>(4 * c.nLayer() + 6);
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>(2 * c.nLayer() + 8);
            Map<String, OnnxValue> outputs = new HashMap<>(2 * c.nLayer() + 2);
            inputs.put(Signature.INPUT_IDS, track(owned, OnnxTensor.createTensor(env, seq.ids(count), new long[] {1, count})));
            inputs.put(Signature.POSITION_IDS, track(owned, OnnxTensor.createTensor(env, seq.positions(count), new long[] {1, count})));
            inputs.put(Signature.ATTENTION_MASK, track(owned, OnnxTensor.createTensor(env, seq.mask(past + count), new long[] {1, past + count})));
            inputs.put(Signature.LOGITS_FROM, track(owned, OnnxTensor.createTensor(env, seq.logitsFrom(), new long[] {1})));
            long[] pastShape = {1, past, c.kvDim()};
            long[] newShape = {1, count, c.kvDim()};
            for (int l = 0; l < c.nLayer(); l++) {
                inputs.put(Signature.pastKey(l), track(owned, OnnxTensor.createTensor(env, cache.keys(l, 0, past), pastShape)));
                inputs.put(Signature.pastValue(l), track(owned, OnnxTensor.createTensor(env, cache.values(l, 0, past), pastShape)));
                outputs.put(Signature.newKey(l), track(owned, OnnxTensor.createTensor(env, cache.keys(l, past, past + count), newShape)));
                outputs.put(Signature.newValue(l), track(owned, OnnxTensor.createTensor(env, cache.values(l, past, past + count), newShape)));
            }
            outputs.put(Signature.LOGITS, track(owned, OnnxTensor.createTensor(env, seq.logits().region(rows),
                    new long[] {1, rows, c.vocabSize()})));
            outputs.put(Signature.NEXT_TOKEN, track(owned, OnnxTensor.createTensor(env, seq.logits().bestRegion(rows),
                    new long[] {1, rows})));
            if (withProbabilities) {
                // ONNX Runtime runs only what the requested outputs need: without this, no softmax is computed.
                outputs.put(Signature.NEXT_TOKEN_PROB, track(owned, OnnxTensor.createTensor(env,
                        seq.logits().bestProbabilityRegion(rows), new long[] {1, rows})));
            }
            try (OrtSession.Result ignored = session.run(inputs, outputs)) {
                // Every output is pinned into our buffers; the result owns nothing.
            }
        } catch (OrtException e) {
            throw new IllegalStateException(id() + ": forward pass failed: " + e.getMessage(), e);
        } finally {
            owned.forEach(OnnxTensor::close);
        }
        cache.advance(count);
        seq.logits().setRows(rows, withProbabilities);
    }

    /**
     * Runs {@code tokens} as a fresh sequence and returns the named outputs as float arrays: for calibration and
     * diagnostics, not the decode loop (it copies everything and keeps no cache).
     */
    public Map<String, float[]> probe(int[] tokens, java.util.Collection<String> outputNames) {
        ModelConfig c = config();
        int n = tokens.length;
        long[] ids = new long[n];
        long[] positions = new long[n];
        long[] mask = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = tokens[i];
            positions[i] = i;
            mask[i] = 1;
        }
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            inputs.put(Signature.INPUT_IDS, track(owned, OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(ids), new long[] {1, n})));
            inputs.put(Signature.POSITION_IDS, track(owned, OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(positions), new long[] {1, n})));
            inputs.put(Signature.ATTENTION_MASK, track(owned, OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(mask), new long[] {1, n})));
            inputs.put(Signature.LOGITS_FROM, track(owned, OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(new long[] {n - 1}), new long[] {1})));
            long[] empty = {1, 0, c.kvDim()};
            for (int l = 0; l < c.nLayer(); l++) {
                inputs.put(Signature.pastKey(l), track(owned, OnnxTensor.createTensor(env, java.nio.FloatBuffer.allocate(0), empty)));
                inputs.put(Signature.pastValue(l), track(owned, OnnxTensor.createTensor(env, java.nio.FloatBuffer.allocate(0), empty)));
            }
            Map<String, float[]> out = new java.util.LinkedHashMap<>();
            try (OrtSession.Result result = session.run(inputs, new java.util.LinkedHashSet<>(outputNames))) {
                for (String name : outputNames) {
                    java.nio.FloatBuffer fb = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
                    float[] values = new float[fb.remaining()];
                    fb.get(values);
                    out.put(name, values);
                }
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException(id() + ": probe failed: " + e.getMessage(), e);
        } finally {
            owned.forEach(OnnxTensor::close);
        }
    }

    private static OnnxTensor track(List<OnnxTensor> owned, OnnxTensor t) {
        owned.add(t);
        return t;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing " + id() + ": " + e.getMessage(), e);
        } finally {
            tokenizer.close();
        }
    }
}
