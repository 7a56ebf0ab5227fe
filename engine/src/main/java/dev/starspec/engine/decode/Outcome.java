package dev.starspec.engine.decode;

/**
 * What became of one {@link Submission}: a generation, or the error that stopped this row alone.
 *
 * @param queueMs read to admission (waiting for a free row or for cache memory)
 * @param totalMs admission to done (for an error: to the moment it failed)
 */
public record Outcome<T>(T key, Generation generation, RuntimeException error, double queueMs, double totalMs) {

    public boolean failed() {
        return error != null;
    }
}
