package dev.starspec.engine.artifact;

import java.nio.file.Path;

/** The node's cache folder, shared by every process on it: {@code $STARSPEC_CACHE}, else {@code ~/.cache/starspec}. */
public final class NodeCache {

    private NodeCache() {}

    public static Path root() {
        String env = System.getenv("STARSPEC_CACHE");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "starspec");
    }
}
