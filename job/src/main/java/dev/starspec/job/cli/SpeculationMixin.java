package dev.starspec.job.cli;

import picocli.CommandLine.Option;

/** How a draft speculates: its quantization, how many tokens per pass, when to stop early. */
public final class SpeculationMixin {

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
}
