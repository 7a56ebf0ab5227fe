package dev.starspec.engine.decode;

/**
 * Where a decoder's draft tokens come from: nowhere (plain decoding), n-grams of the row's own text (prompt
 * lookup), or a smaller model sharing the target's tokenizer.
 */
public sealed interface Draft {

    /** What output rows name as the draft: null, {@code prompt-lookup}, or the draft model's id. */
    String id();

    /** Plain decoding: one target pass per token. */
    record None() implements Draft {
        @Override
        public String id() {
            return null;
        }
    }

    /**
     * Prompt lookup decoding: the longest recent n-gram (up to {@code maxNgram} tokens) that ends the text and also
     * occurs earlier in it proposes the tokens that followed its most recent earlier occurrence. Code repeats
     * itself, and a lookup costs no model pass.
     */
    record PromptLookup(int maxNgram) implements Draft {
        public static final String ID = "prompt-lookup";

        public PromptLookup {
            if (maxNgram < 1) {
                throw new IllegalArgumentException("n-gram size must be at least 1, got " + maxNgram);
            }
        }

        @Override
        public String id() {
            return ID;
        }
    }

    /** A draft model, proposing one token per pass over its own KV cache, batched across rows. */
    record OfModel(dev.starspec.engine.runtime.Model model) implements Draft {
        @Override
        public String id() {
            return model.id();
        }
    }
}
