package dev.starspec.engine.decode;

/**
 * One request entering a decoder, with what the caller needs to recognise its outcome.
 *
 * @param key the caller's handle on the row (its input row, say); returned untouched in the {@link Outcome}
 * @param readNanos when the row was read ({@link System#nanoTime()}), from which its queue time counts
 */
public record Submission<T>(T key, GenerationRequest request, long readNanos) {

    public static <T> Submission<T> now(T key, GenerationRequest request) {
        return new Submission<>(key, request, System.nanoTime());
    }
}
