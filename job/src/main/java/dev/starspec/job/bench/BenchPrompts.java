package dev.starspec.job.bench;

import dev.starspec.engine.tokenizer.Tokenizer;
import dev.starspec.job.humaneval.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * Prompts of a chosen length in tokens, cut from HumanEval's prompts laid end to end: real code, so a draft
 * model's acceptance means something, and the same text for every configuration.
 */
final class BenchPrompts {

    private BenchPrompts() {}

    static List<String> make(Tokenizer tokenizer, List<Problem> problems, int tokens, int count) {
        List<String> out = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int next = 0;
        while (out.size() < count) {
            text.setLength(0);
            int[] ids = new int[0];
            while (ids.length < tokens) {
                text.append(problems.get(next++ % problems.size()).prompt());
                ids = tokenizer.encode(text.toString());
            }
            out.add(tokenizer.decode(ids, 0, tokens));
        }
        return out;
    }
}
