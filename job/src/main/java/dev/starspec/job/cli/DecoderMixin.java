package dev.starspec.job.cli;

import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Sampling;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.job.Bundled;
import dev.starspec.udfs.GenerationConfig;
import dev.starspec.udfs.ModelRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Which model decodes and how: target, draft, quantization, sampling, context policy, runtime. The decoder is
 * built by the same registry the Spark job uses, so {@code complete} and {@code generate} agree on every option.
 */
public final class DecoderMixin {

    @Option(names = {"--model", "--target"}, description = "artifact or Hugging Face checkpoint folder (default: the bundled tiny target)")
    Path model;

    @Option(names = "--quant", description = "when --model is a checkpoint: convert it (once, cached) to fp32, int8 or int4")
    String quant;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", description = "sample among the k most likely (0 = all)")
    int topK;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--context-policy", defaultValue = "error",
            description = "prompt longer than the context: error or truncate-left (default ${DEFAULT-VALUE})")
    String contextPolicy;

    @Option(names = "--draft", description = "speculate with a draft: an artifact or checkpoint folder, 'prompt-lookup', "
            + "or 'none' (default: none)")
    String draft;

    @Option(names = "--draft-quant", description = "when --draft is a checkpoint: convert it to fp32, int8 or int4")
    String draftQuant;

    @Option(names = "--draft-tokens", defaultValue = "5", description = "K, draft tokens per verification pass (default ${DEFAULT-VALUE})")
    int draftTokens;

    @Option(names = "--draft-adaptive", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "adapt K to the running acceptance, up to --draft-tokens; --no-draft-adaptive keeps K fixed "
                    + "(default ${DEFAULT-VALUE}: it was best or within noise of the best fixed K in every measurement)")
    boolean draftAdaptive;

    @Option(names = "--draft-p-min", defaultValue = "0", description = "stop a run of proposals when the draft's own "
            + "probability falls below this (0 = never; default ${DEFAULT-VALUE})")
    double draftPMin;

    @Option(names = "--lookup-ngram", defaultValue = "3", description = "prompt lookup: longest n-gram matched (default ${DEFAULT-VALUE})")
    int lookupNgram;

    @Mixin
    RuntimeMixin runtime;

    public Sampling sampling() {
        return new Sampling(temperature, topP, topK, seed);
    }

    public ContextPolicy policy() {
        return ContextPolicy.valueOf(contextPolicy.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** The decoder these options describe; its models come from (and stay in) the process's registry. */
    public Decoder decoder() {
        RuntimeOptions options = runtime.options();
        GenerationConfig config = new GenerationConfig(
                (model != null ? model : Bundled.tinyTarget()).toString(), quant, draft, draftQuant,
                draftTokens, draftAdaptive, draftPMin, lookupNgram, options.threads(), options.spinning(),
                runtime.offHeapBytes(), options.prefillChunk(), policy(), 1, temperature, topP, topK, seed, List.of());
        return ModelRegistry.decoder(config);
    }
}
