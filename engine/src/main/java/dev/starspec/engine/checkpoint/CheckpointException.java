package dev.starspec.engine.checkpoint;

import java.nio.file.Path;

/** A checkpoint that cannot be read as the model it claims to be; the message names the file and tensor. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(Path file, String message) {
        super(file + ": " + message);
    }

    public CheckpointException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
