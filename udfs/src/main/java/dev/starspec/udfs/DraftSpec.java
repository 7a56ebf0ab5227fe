package dev.starspec.udfs;

import dev.starspec.engine.decode.Draft;
import java.io.Serializable;

/**
 * Which draft a job speculates with, as configured: none, prompt lookup, or a draft model at some location. The
 * registry turns it into the engine's {@link Draft} on each executor.
 */
public sealed interface DraftSpec extends Serializable {

    /** How output rows and logs name it. */
    String describe();

    record None() implements DraftSpec {
        @Override
        public String describe() {
            return "none";
        }
    }

    record PromptLookup(int maxNgram) implements DraftSpec {
        public PromptLookup {
            new Draft.PromptLookup(maxNgram); // validates
        }

        @Override
        public String describe() {
            return Draft.PromptLookup.ID + " (n-grams up to " + maxNgram + ")";
        }
    }

    record Model(ModelSpec model) implements DraftSpec {
        @Override
        public String describe() {
            return model.location();
        }
    }

    /**
     * The command line's {@code --draft}: null, empty or {@code none} for no draft, {@code prompt-lookup}, or a model
     * location (with {@code quant} for a checkpoint).
     */
    static DraftSpec parse(String draft, String quant, int lookupNgram) {
        if (draft == null || draft.isBlank() || draft.equals("none")) {
            return new None();
        }
        if (draft.equals(Draft.PromptLookup.ID)) {
            return new PromptLookup(lookupNgram);
        }
        return new Model(new ModelSpec(draft, quant));
    }
}
