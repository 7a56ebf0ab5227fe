package dev.starspec.job.humaneval;

import dev.starspec.engine.decode.GenerationRequest;

/**
 * HumanEval prompts and programs as bigcode-evaluation-harness builds them for its {@code humaneval} task: the
 * prompt stripped of surrounding whitespace, the completion cut at the first stop sequence, and the program =
 * prompt + completion + "\n" + test + "\n" + "check(entry_point)".
 */
public final class Programs {

    private Programs() {}

    public static String prompt(Problem p) {
        return p.prompt().strip();
    }

    /** Cuts at the earliest stop sequence, as the harness does for completions that came from elsewhere. */
    public static String cut(String completion) {
        int end = completion.length();
        for (String stop : GenerationRequest.HUMANEVAL_STOPS) {
            int at = completion.indexOf(stop);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        return completion.substring(0, end);
    }

    /** The program for a full generation (prompt + completion), as harness generations.json stores them. */
    public static String program(Problem p, String generation) {
        return generation + "\n" + p.test() + "\n" + "check(" + p.entryPoint() + ")\n";
    }

    /** The program for a completion of the harness prompt. */
    public static String forCompletion(Problem p, String completion) {
        return program(p, prompt(p) + cut(completion));
    }
}
