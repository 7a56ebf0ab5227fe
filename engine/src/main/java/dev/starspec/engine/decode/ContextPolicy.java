package dev.starspec.engine.decode;

/**
 * What to do when prompt plus completion do not fit the model's context ({@code n_positions}).
 *
 * <p>In both policies a prompt that fits leaves the completion whatever room remains: generation stops with
 * finish reason {@code length} when the context is full, even before max new tokens.
 */
public enum ContextPolicy {
    /** A prompt that leaves no room for one new token is an error for that prompt. */
    ERROR,
    /**
     * Keep the end of the prompt (nearest the completion) and drop tokens from the left, so that the prompt
     * leaves room for max new tokens (or half the context, whichever is smaller).
     */
    TRUNCATE_LEFT;

    /** The prompt tokens to use and how many new tokens fit after them. */
    record Fit(int from, int maxNewTokens) {}

    Fit fit(int promptTokens, int maxNewTokens, int context) {
        if (promptTokens == 0) {
            throw new GenerationException("empty prompt: nothing to complete");
        }
        if (promptTokens + 1 <= context) {
            return new Fit(0, Math.min(maxNewTokens, context - promptTokens));
        }
        if (this == ERROR) {
            throw new GenerationException("prompt has " + promptTokens + " tokens; the model's context is " + context
                    + " positions and the completion needs at least one (use --context-policy truncate-left to keep"
                    + " the end of long prompts)");
        }
        int room = Math.min(maxNewTokens, context / 2);
        int keep = context - room;
        return new Fit(promptTokens - keep, room);
    }
}
