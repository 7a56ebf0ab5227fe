package dev.starspec.job.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What ships in the repository's {@code data/} folder: the tiny trained target/draft pair, sample prompts,
 * HumanEval, the StarCoder tokenizer. Found from {@code -Dstarspec.home} (bin/starspec sets it), else by looking
 * upward from the working directory.
 */
public final class Bundled {

    private Bundled() {}

    public static Path home() {
        String configured = System.getProperty("starspec.home", System.getenv("STARSPEC_HOME"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("data/models/tiny-starcoder-target"))) {
                return p;
            }
        }
        return Path.of("").toAbsolutePath();
    }

    public static Path data(String relative) {
        return home().resolve("data").resolve(relative);
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

    public static Path humanEval() {
        return data("humaneval/HumanEval.jsonl.gz");
    }

    public static Path samplePrompts() {
        return data("prompts/sample.jsonl");
    }
}
