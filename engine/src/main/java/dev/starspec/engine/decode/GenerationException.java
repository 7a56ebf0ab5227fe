package dev.starspec.engine.decode;

/** A prompt that cannot be generated for (empty, or too long for the context under the chosen policy). */
public final class GenerationException extends RuntimeException {
    public GenerationException(String message) {
        super(message);
    }
}
