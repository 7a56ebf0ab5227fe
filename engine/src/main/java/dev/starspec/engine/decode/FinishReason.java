package dev.starspec.engine.decode;

import java.util.Locale;

/** Why a generation ended. */
public enum FinishReason {
    /** A stop sequence appeared; the completion ends before it. */
    STOP,
    /** max new tokens reached, or the model's context is full. */
    LENGTH,
    /** The model emitted its end-of-text token. */
    EOS,
    /** The prompt could not be generated for; the row carries the error. */
    ERROR;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
