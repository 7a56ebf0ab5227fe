package dev.starspec.job.cli;

import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.Sampling;
import java.util.Locale;
import picocli.CommandLine.Option;

/** How tokens are chosen, and what to do with prompts that do not fit the context. */
public final class SamplingMixin {

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", description = "sample among the k most likely (0 = all)")
    int topK;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed; the job combines it with each row's id "
            + "(default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--context-policy", defaultValue = "error",
            description = "prompt longer than the context: error or truncate-left (default ${DEFAULT-VALUE})")
    String contextPolicy;

    public Sampling sampling() {
        return new Sampling(temperature, topP, topK, seed);
    }

    public ContextPolicy policy() {
        return ContextPolicy.valueOf(contextPolicy.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
