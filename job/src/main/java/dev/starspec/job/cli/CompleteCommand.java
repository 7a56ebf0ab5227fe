package dev.starspec.job.cli;

import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Generation;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.udfs.OutputRow;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code starspec complete}: one prompt, its completion and its latency. */
@Command(name = "complete", mixinStandardHelpOptions = true,
        description = "Complete one prompt and print the completion with its timings.")
public final class CompleteCommand implements Callable<Integer> {

    @Mixin
    DecoderMixin decoder;

    @Option(names = "--prompt", description = "the prompt (default: a function signature)")
    String prompt = "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n";

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "default ${DEFAULT-VALUE}")
    int maxNewTokens;

    @Option(names = "--stop", description = "stop sequence (repeatable; default: the HumanEval set)")
    List<String> stop;

    @Option(names = "--no-stop", description = "no stop sequences: run to max new tokens or EOS")
    boolean noStop;

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<String> stops = noStop ? List.of() : stop != null ? stop : GenerationRequest.HUMANEVAL_STOPS;
        Decoder d = decoder.decoder();
        Generation g = d.generate(new GenerationRequest(prompt, maxNewTokens, stops, decoder.sampling()));
        if (json) {
            System.out.println(OutputRow.of(null, prompt, g, d.targetId(), d.draftId(), 0).toJson().toString());
        } else {
            System.out.println(prompt + g.completion());
            System.out.println("---");
            System.out.println(summary(g, d));
        }
        return 0;
    }

    static String summary(Generation g, Decoder d) {
        StringBuilder s = new StringBuilder();
        s.append(d.targetId());
        if (d.draftId() != null) {
            s.append(" + draft ").append(d.draftId());
        }
        s.append(String.format(" | prompt %d tokens | %d new tokens (%s) | TTFT %.1f ms | TPOT %.2f ms (%.0f tokens/s) | total %.1f ms",
                g.promptTokens(), g.completionTokens(), g.finishReason().label(), g.ttftMs(), g.tpotMs(),
                1000 / g.tpotMs(), g.totalMs()));
        if (g.draft() != null) {
            s.append(String.format(" | draft accepted %d/%d (%.0f%%, %.2f a pass), %d target and %d draft passes",
                    g.draft().accepted(), g.draft().proposed(), 100 * g.draft().acceptanceRate(),
                    g.draft().meanAcceptedLength(), g.targetPasses(), g.draft().draftPasses()));
        }
        return s.toString();
    }
}
