package dev.starspec.engine.decode;

/**
 * A finished generation.
 *
 * @param completion generated text, cut before the stop sequence if one ended it
 * @param tokens generated token ids, including the EOS or stop-completing token that ended the generation
 * @param promptTokens prompt tokens the model saw (after any truncation by the context policy)
 * @param ttftMs admission (before tokenization) to first token out
 * @param tpotMs (last token time - first token time) / (tokens - 1); NaN for a single token
 * @param totalMs admission to generation done
 * @param targetPasses target forward passes after the prompt that included this row
 * @param draft what speculation did, or null without speculation
 */
public record Generation(
        String completion,
        int[] tokens,
        FinishReason finishReason,
        int promptTokens,
        double ttftMs,
        double tpotMs,
        double totalMs,
        long targetPasses,
        DraftStats draft) {

    public int completionTokens() {
        return tokens.length;
    }
}
