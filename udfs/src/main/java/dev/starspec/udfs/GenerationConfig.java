package dev.starspec.udfs;

import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.SpeculativeSampling;
import dev.starspec.engine.runtime.RuntimeOptions;
import java.io.Serializable;

/**
 * Everything an executor needs to turn prompts into completions: which models, how to batch and speculate, how
 * they run, and the defaults for rows that do not say. Small and serializable: it travels in Spark's task
 * closures; the models themselves never do (see {@link ModelRegistry}).
 *
 * @param offHeapBytes the off-heap limit for the KV caches and pass buffers of the executor's decoders
 */
public record GenerationConfig(ModelSpec target, DraftSpec draft, DecodeOptions decode, RuntimeOptions runtime,
                               long offHeapBytes, RequestDefaults defaults) implements Serializable {

    private static final long serialVersionUID = 2L;

    public GenerationConfig {
        if (target == null || draft == null || decode == null || runtime == null || defaults == null) {
            throw new IllegalArgumentException("a generation config needs a target, a draft (or none), decode and "
                    + "runtime options and request defaults");
        }
        if (offHeapBytes <= 0) {
            throw new IllegalArgumentException("the off-heap limit must be positive, got " + offHeapBytes);
        }
    }

    /**
     * A configuration with the bigcode HumanEval stop sequences, greedy decoding, 64 new tokens, adaptive K up to 5
     * and the automatic batch size, for tests and examples. {@code draft}: as {@code --draft}.
     */
    public static GenerationConfig of(String target, String draft) {
        return new GenerationConfig(ModelSpec.of(target), DraftSpec.parse(draft, null, 3),
                new DecodeOptions(DecodeOptions.AUTO_BATCH, DraftLength.adaptive(5), SpeculativeSampling.COUPLED,
                        ContextPolicy.ERROR),
                RuntimeOptions.defaults(), 4L << 30, RequestDefaults.humanEval(64));
    }

    public GenerationConfig withDecode(DecodeOptions d) {
        return new GenerationConfig(target, draft, d, runtime, offHeapBytes, defaults);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(target, draft, decode, runtime, offHeapBytes, defaults.withMaxNewTokens(n));
    }

    public GenerationConfig withThreads(int n) {
        return new GenerationConfig(target, draft, decode, runtime.withThreads(n), offHeapBytes, defaults);
    }

    /**
     * ONNX Runtime threads as the session gives each task cores: {@code spark.task.cpus} on a cluster (the driver's
     * own core count says nothing about the executors'); in local mode the driver's cores shared by the task slots.
     */
    public GenerationConfig withTaskThreads(org.apache.spark.sql.SparkSession spark) {
        int taskCpus = Integer.parseInt(spark.conf().get("spark.task.cpus", "1"));
        if (!spark.sparkContext().isLocal()) {
            return withThreads(taskCpus);
        }
        int slots = Math.max(1, spark.sparkContext().defaultParallelism() / taskCpus);
        return withThreads(Math.max(1, Runtime.getRuntime().availableProcessors() / slots));
    }

    public GenerationConfig withBatchSize(int n) {
        return withDecode(decode.withBatchSize(n));
    }

    /**
     * The request for one row (see {@link RequestDefaults#request}), seeded from the row's id, or from its prompt
     * when it has none (the SQL UDF, a pipeline stage without an id column): the same prompt samples the same way
     * on either path.
     */
    public GenerationRequest request(String id, String prompt, Integer rowMaxNewTokens, Double rowTemperature,
                                     java.util.List<String> rowStops) {
        return defaults.request(prompt, rowMaxNewTokens, rowTemperature, rowStops,
                defaults.seedFor(id != null ? id : prompt));
    }
}
