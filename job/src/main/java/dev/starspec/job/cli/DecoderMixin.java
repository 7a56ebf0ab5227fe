package dev.starspec.job.cli;

import dev.starspec.engine.artifact.ArtifactCache;
import dev.starspec.engine.artifact.QuantSpec;
import dev.starspec.engine.decode.AutoregressiveDecoder;
import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.ModelDrafter;
import dev.starspec.engine.decode.PromptLookupDrafter;
import dev.starspec.engine.decode.SpeculativeDecoder;
import dev.starspec.engine.decode.Sampling;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.job.Bundled;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Which model decodes and how: target, quantization, sampling, context policy, runtime. */
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

    @Option(names = "--draft-adaptive", description = "adapt K to the running acceptance (up to --draft-tokens)")
    boolean draftAdaptive;

    @Option(names = "--draft-p-min", defaultValue = "0", description = "stop a run of proposals when the draft's own "
            + "probability falls below this (0 = never; default ${DEFAULT-VALUE})")
    double draftPMin;

    @Option(names = "--lookup-ngram", defaultValue = "3", description = "prompt lookup: longest n-gram matched (default ${DEFAULT-VALUE})")
    int lookupNgram;

    @Mixin
    RuntimeMixin runtime;

    /** Models and the decoder over them; closing releases the models. */
    public record Loaded(Decoder decoder, Model target, Model draft) implements AutoCloseable {
        @Override
        public void close() {
            target.close();
            if (draft != null) {
                draft.close();
            }
        }
    }

    public Sampling sampling() {
        return new Sampling(temperature, topP, topK, seed);
    }

    public ContextPolicy policy() {
        return ContextPolicy.valueOf(contextPolicy.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    public Loaded load(Consumer<String> log) {
        RuntimeOptions options = runtime.options();
        ArtifactCache cache = ArtifactCache.standard();
        Path dir = model != null ? model : Bundled.tinyTarget();
        Model target = Model.load(cache.resolve(dir, quant == null ? null : QuantSpec.of(quant), log), options);
        if (draft == null || draft.equals("none")) {
            return new Loaded(new AutoregressiveDecoder(target, OffHeapMemory.root(), policy()), target, null);
        }
        DraftLength length = new DraftLength(draftTokens, draftAdaptive, draftPMin);
        if (draft.equals(PromptLookupDrafter.ID)) {
            return new Loaded(new SpeculativeDecoder(target, new PromptLookupDrafter(lookupNgram), length,
                    OffHeapMemory.root(), policy()), target, null);
        }
        Model draftModel = null;
        try {
            draftModel = Model.load(cache.resolve(Path.of(draft), draftQuant == null ? null : QuantSpec.of(draftQuant), log), options);
            return new Loaded(new SpeculativeDecoder(target, new ModelDrafter(draftModel), length, OffHeapMemory.root(),
                    policy()), target, draftModel);
        } catch (RuntimeException e) {
            target.close();
            if (draftModel != null) {
                draftModel.close();
            }
            throw e;
        }
    }
}
