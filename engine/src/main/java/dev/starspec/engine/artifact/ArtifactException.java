package dev.starspec.engine.artifact;

import java.nio.file.Path;

/** An artifact that cannot be loaded; the message names the file and what is wrong with it. */
public final class ArtifactException extends RuntimeException {
    public ArtifactException(Path file, String message) {
        super(file + ": " + message);
    }

    public ArtifactException(Path file, String message, Throwable cause) {
        this(file.toString(), message, cause);
    }

    /** For a location that is not a local path (a URL). */
    public ArtifactException(String location, String message, Throwable cause) {
        super(location + ": " + message, cause);
    }
}
