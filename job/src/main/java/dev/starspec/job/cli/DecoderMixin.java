package dev.starspec.job.cli;

import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Sampling;
import dev.starspec.udfs.GenerationConfig;
import dev.starspec.udfs.ModelRegistry;
import dev.starspec.udfs.ModelSpec;
import dev.starspec.udfs.RequestDefaults;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Which model decodes one prompt and how: target, draft, quantization, sampling, context policy, runtime. The decoder
 * is built by the same registry the Spark job uses, so {@code complete} and {@code generate} agree on every option.
 */
public final class DecoderMixin {

    @Option(names = {"--model", "--target"}, description = "artifact or Hugging Face checkpoint folder (default: the bundled tiny target)")
    Path model;

    @Option(names = "--quant", description = "when --model is a checkpoint: convert it (once, cached) to fp32, int8 or int4")
    String quant;

    @Option(names = "--draft", description = "speculate with a draft: an artifact or checkpoint folder, 'prompt-lookup', "
            + "or 'none' (default: none)")
    String draft;

    @Mixin
    DecodingMixin decoding;

    @Mixin
    DraftLengthMixin draftLength;

    @Mixin
    SamplingMixin sampling;

    @Mixin
    RuntimeMixin runtime;

    public Sampling sampling() {
        return sampling.sampling();
    }

    /** The decoder these options describe, one row at a time; its models come from (and stay in) the registry. */
    public Decoder decoder() {
        GenerationConfig config = new GenerationConfig(
                new ModelSpec((model != null ? model : Bundled.tinyTarget()).toString(), quant), decoding.draft(draft),
                decoding.options(1, draftLength, sampling.policy()), runtime.options(), runtime.offHeapBytes(),
                new RequestDefaults(1, sampling.temperature, sampling.topP, sampling.topK, sampling.seed, List.of()));
        return ModelRegistry.decoder(config);
    }
}
