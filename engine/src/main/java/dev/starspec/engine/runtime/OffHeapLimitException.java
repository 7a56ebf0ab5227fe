package dev.starspec.engine.runtime;

/** A generation needed more off-heap memory (KV cache and I/O tensors) than the configured limit allows. */
public final class OffHeapLimitException extends RuntimeException {
    public OffHeapLimitException(String message, Throwable cause) {
        super(message, cause);
    }
}
