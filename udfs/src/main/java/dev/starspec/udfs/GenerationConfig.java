package dev.starspec.udfs;

import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Sampling;
import java.io.Serializable;
import java.util.List;

/**
 * Everything an executor needs to turn prompts into completions: which models, how to speculate, and the
 * defaults for rows that do not say. Small and serializable: it travels in Spark's task closures; the models
 * themselves never do (see {@link ModelRegistry}).
 *
 * @param target artifact or checkpoint: a local path or a URL (file:, hdfs:, s3a:, https:)
 * @param draft null (no speculation), {@code prompt-lookup}, or a model location like {@code target}
 * @param offHeapBytes the off-heap limit for KV caches and I/O tensors of the executor's generations
 */
public record GenerationConfig(
        String target,
        String targetQuant,
        String draft,
        String draftQuant,
        int draftTokens,
        boolean draftAdaptive,
        double draftPMin,
        int lookupNgram,
        int threads,
        boolean spin,
        long offHeapBytes,
        int prefillChunk,
        ContextPolicy contextPolicy,
        int maxNewTokens,
        double temperature,
        double topP,
        int topK,
        long seed,
        List<String> stops) implements Serializable {

    private static final long serialVersionUID = 1L;

    public GenerationConfig {
        stops = stops == null ? List.of() : List.copyOf(stops);
        if (draft != null && (draft.isBlank() || draft.equals("none"))) {
            draft = null;
        }
        new DraftLength(draftTokens, draftAdaptive, draftPMin); // validates
        new Sampling(temperature, topP, topK, seed);
        if (maxNewTokens <= 0 || threads <= 0 || offHeapBytes <= 0 || prefillChunk <= 0) {
            throw new IllegalArgumentException("max new tokens, threads, off-heap bytes and prefill chunk must be positive");
        }
    }

    public DraftLength draftLength() {
        return new DraftLength(draftTokens, draftAdaptive, draftPMin);
    }

    /** The request for one prompt; the row's own values, where given, win over the defaults. */
    public GenerationRequest request(String prompt, Integer rowMaxNewTokens, Double rowTemperature, List<String> rowStops,
                                     long rowSeed) {
        double t = rowTemperature != null ? rowTemperature : temperature;
        return new GenerationRequest(prompt, rowMaxNewTokens != null ? rowMaxNewTokens : maxNewTokens,
                rowStops != null ? rowStops : stops, new Sampling(t, topP, topK, rowSeed));
    }

    /** A configuration with the bigcode HumanEval stop sequences and greedy decoding, for tests and examples. */
    public static GenerationConfig of(String target, String draft) {
        return new GenerationConfig(target, null, draft, null, 5, true, 0, 3,
                Runtime.getRuntime().availableProcessors(), true, 4L << 30, 512, ContextPolicy.ERROR, 64, 0, 1, 0, 0,
                GenerationRequest.HUMANEVAL_STOPS);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(target, targetQuant, draft, draftQuant, draftTokens, draftAdaptive, draftPMin,
                lookupNgram, threads, spin, offHeapBytes, prefillChunk, contextPolicy, n, temperature, topP, topK, seed, stops);
    }

    public GenerationConfig withThreads(int n) {
        return new GenerationConfig(target, targetQuant, draft, draftQuant, draftTokens, draftAdaptive, draftPMin,
                lookupNgram, n, spin, offHeapBytes, prefillChunk, contextPolicy, maxNewTokens, temperature, topP, topK, seed, stops);
    }
}
