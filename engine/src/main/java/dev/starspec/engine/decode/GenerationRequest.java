package dev.starspec.engine.decode;

import java.util.List;

/**
 * One prompt to complete.
 *
 * @param stop stop sequences: the completion ends before the first one that appears in it
 */
public record GenerationRequest(String prompt, int maxNewTokens, List<String> stop, Sampling sampling) {

    /** The bigcode-evaluation-harness stop sequences for HumanEval. */
    public static final List<String> HUMANEVAL_STOPS =
            List.of("\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\n```", "<file_sep>");

    public GenerationRequest {
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("max new tokens must be positive, got " + maxNewTokens);
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        if (stop.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("a stop sequence cannot be empty");
        }
        sampling = sampling == null ? Sampling.GREEDY : sampling;
    }

    public static GenerationRequest greedy(String prompt, int maxNewTokens) {
        return new GenerationRequest(prompt, maxNewTokens, HUMANEVAL_STOPS, Sampling.GREEDY);
    }
}
