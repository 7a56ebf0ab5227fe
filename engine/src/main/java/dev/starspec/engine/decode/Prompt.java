package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Model;
import java.util.Arrays;

/** A request's prompt as tokens, fitted to the model's context, with the completion's room. */
record Prompt(int[] tokens, int maxNewTokens) {

    static Prompt of(Model model, GenerationRequest request, ContextPolicy policy) {
        if (request.prompt() == null) {
            throw new GenerationException("null prompt: nothing to complete");
        }
        int[] ids = model.tokenizer().encode(request.prompt());
        ContextPolicy.Fit fit = policy.fit(ids.length, request.maxNewTokens(), model.config().nPositions());
        return new Prompt(fit.from() == 0 ? ids : Arrays.copyOfRange(ids, fit.from(), ids.length), fit.maxNewTokens());
    }

    int length() {
        return tokens.length;
    }

    /** KV positions needed: the prompt, then every generated token but the last (which is never fed back). */
    int capacity() {
        return tokens.length + maxNewTokens - 1;
    }
}
