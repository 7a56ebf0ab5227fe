package dev.starspec.job.cli;

import picocli.CommandLine.Option;

/** How many draft tokens a row proposes per verification pass. */
public final class DraftLengthMixin {

    @Option(names = "--draft-tokens", defaultValue = "5", description = "K, the most draft tokens per row and verification "
            + "pass (default ${DEFAULT-VALUE})")
    int draftTokens;

    @Option(names = "--draft-adaptive", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "choose each row's K every step, up to --draft-tokens, from the measured pass costs of target "
                    + "and draft at the batch's size and the row's running acceptance; --no-draft-adaptive keeps K fixed "
                    + "(default ${DEFAULT-VALUE})")
    boolean draftAdaptive;
}
