package dev.starspec.job.cli;

import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.SpeculativeSampling;
import dev.starspec.udfs.DraftSpec;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * How rows speculate: the draft's quantization, when to stop a run of proposals early, how to sample. How many
 * tokens per pass is {@link DraftLengthMixin} (bench sweeps it instead).
 */
public final class DecodingMixin {

    @Option(names = "--draft-quant", description = "when --draft is a checkpoint: convert it to fp32, int8 or int4")
    String draftQuant;

    @Option(names = "--draft-p-min", defaultValue = "0", description = "stop a run of proposals when the draft's own "
            + "probability falls below this (0 = never; default ${DEFAULT-VALUE})")
    double draftPMin;

    @Option(names = "--lookup-ngram", defaultValue = "3", description = "prompt lookup: longest n-gram matched (default ${DEFAULT-VALUE})")
    int lookupNgram;

    @Option(names = "--speculative-sampling", defaultValue = "coupled",
            description = "with --temperature > 0: coupled (draft and target share each position's noise: the output is "
                    + "exactly what sampling without a draft gives, whatever the draft or batch) or rejection "
                    + "(Leviathan et al.; the output depends on the draft lengths chosen) (default ${DEFAULT-VALUE})")
    String speculativeSampling;

    public SpeculativeSampling speculativeSampling() {
        return SpeculativeSampling.valueOf(speculativeSampling.toUpperCase(Locale.ROOT));
    }

    public DecodeOptions options(int batchSize, DraftLengthMixin length, ContextPolicy policy) {
        return new DecodeOptions(batchSize, new DraftLength(length.draftTokens, length.draftAdaptive, draftPMin),
                speculativeSampling(), policy);
    }

    /** {@code --draft} as given (null: none, {@code prompt-lookup}, or a model location). */
    public DraftSpec draft(String draft) {
        return DraftSpec.parse(draft, draftQuant, lookupNgram);
    }

    /** {@code --batch-size}: a number of rows, or {@code auto}. */
    public static int batchSize(String text) {
        if (text.equalsIgnoreCase("auto")) {
            return DecodeOptions.AUTO_BATCH;
        }
        try {
            int n = Integer.parseInt(text.trim());
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--batch-size takes a positive number of rows or 'auto', not '" + text + "'");
        }
    }
}
