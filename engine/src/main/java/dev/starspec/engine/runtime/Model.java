package dev.starspec.engine.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.ArtifactException;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.tokenizer.Tokenizer;
import java.util.Collection;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A loaded artifact: its ONNX Runtime session and its tokenizer. Load once per process and share: a session
 * runs any number of {@link Batch}es, from any threads.
 */
public final class Model implements AutoCloseable {

    private final Artifact artifact;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Tokenizer tokenizer;
    private final RuntimeOptions options;
    private CostCurve costCurve;

    private Model(Artifact artifact, OrtEnvironment env, OrtSession session, Tokenizer tokenizer, RuntimeOptions options) {
        this.artifact = artifact;
        this.env = env;
        this.session = session;
        this.tokenizer = tokenizer;
        this.options = options;
    }

    public static Model load(Artifact artifact, RuntimeOptions options) {
        long weights = artifact.manifest().files().get(Artifact.WEIGHTS).bytes();
        long memory = physicalMemory();
        if (weights > 0.95 * memory) {
            throw new ArtifactException(artifact.dir(), String.format("its weights are %.1f GB and this machine has "
                    + "%.1f GB of memory, so it cannot be loaded here: use a machine with more memory, or convert the "
                    + "model to a smaller quantization (int4)", weights / 1e9, memory / 1e9));
        }
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

    /** The machine's physical memory. */
    public static long physicalMemory() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
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

    /**
     * Whether the blocks' linear layers run ONNX Runtime's quantized matmul, which computes rows in pairs and a lone
     * last row another way (float32 matmuls compute every row alike): then every pass carries an even number of
     * tokens, with a spare one when the rows' own are odd.
     */
    public boolean pairsTokens() {
        return !artifact.manifest().quantization().scheme().equals("fp32");
    }

    /** Whether the lm_head is quantized too, and pairs its rows as the body does (see {@link #pairsTokens}). */
    boolean quantizedHead() {
        return pairsTokens() && artifact.manifest().quantization().parameters().path("lm_head").asText("").startsWith("int");
    }

    /** {@code name:quant}, as output rows report it. */
    public String id() {
        return artifact.id();
    }

    /**
     * What a pass costs on this machine: the curve recorded beside the artifact for this CPU and thread count, or
     * a short measurement (recorded there when the folder is writable). Measured once per model and process.
     */
    public synchronized CostCurve costCurve() {
        if (costCurve == null) {
            CostCurve c = CostCurve.recorded(artifact.dir(), options);
            if (c == null) {
                c = CostCurve.measure(this, false);
                c.record(artifact.dir());
            }
            costCurve = c;
        }
        return costCurve;
    }

    /** Measures the curve with more passes per point and records it beside the artifact (for {@code bench}). */
    public synchronized CostCurve measureCostCurve() {
        costCurve = CostCurve.measure(this, true);
        costCurve.record(artifact.dir());
        return costCurve;
    }

    /** A new batch of empty rows on this model (see {@link Batch}). */
    public Batch newBatch(BufferAllocator memory, Batch.Limits limits) {
        return new Batch(this, memory, limits);
    }

    void run(Batch batch, int lo, int hi, int window, int tokens, int rows, boolean withProbabilities) {
        try {
            batch.bindAndRun(env, session, lo, hi, window, tokens, rows, withProbabilities);
        } catch (OrtException e) {
            throw new IllegalStateException(id() + ": forward pass failed: " + e.getMessage(), e);
        }
    }

    /**
     * Runs {@code tokens} as a fresh sequence and returns the named outputs as float arrays: for calibration and
     * diagnostics, not the decode loop (it copies everything and keeps no cache).
     */
    public Map<String, float[]> probe(int[] tokens, Collection<String> outputNames) {
        int n = tokens.length;
        try (Batch b = newBatch(OffHeapMemory.root(), new Batch.Limits(1, n, n, 1))) {
            return b.probe(env, session, tokens, outputNames);
        } catch (OrtException e) {
            throw new IllegalStateException(id() + ": probe failed: " + e.getMessage(), e);
        }
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
