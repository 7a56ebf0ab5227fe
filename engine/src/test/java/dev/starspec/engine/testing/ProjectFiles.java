package dev.starspec.engine.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of this repository that tests use as oracles: the trained tiny models, tokenizer vectors, HumanEval. */
public final class ProjectFiles {

    private ProjectFiles() {}

    public static Path root() {
        String configured = System.getProperty("starspec.root");
        Path p = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
        for (Path q = p.toAbsolutePath(); q != null; q = q.getParent()) {
            if (Files.isDirectory(q.resolve("data/models")) && Files.isRegularFile(q.resolve("pom.xml"))) {
                return q;
            }
        }
        throw new IllegalStateException("cannot find the project root (with data/models) above " + p);
    }

    public static Path data(String relative) {
        return root().resolve("data").resolve(relative);
    }

    public static Path tinyTarget() {
        return data("models/tiny-starcoder-target");
    }

    public static Path tinyDraft() {
        return data("models/tiny-starcoder-draft");
    }

    public static Path starcoderTokenizer() {
        return data("tokenizer/starcoder/tokenizer.json");
    }
}
