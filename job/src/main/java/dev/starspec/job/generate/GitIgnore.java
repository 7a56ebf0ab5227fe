package dev.starspec.job.generate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The common subset of .gitignore rules: globs with {@code *}, {@code ?} and {@code **}, a trailing {@code /} for
 * folders only, a leading or inner {@code /} anchoring to the file's folder, {@code !} to re-include, and
 * {@code #} comments. Files in a folder are judged by the .gitignore files of that folder and its ancestors.
 */
final class GitIgnore {

    private record Rule(Pattern pattern, boolean negated, boolean foldersOnly) {}

    private final Path base;
    private final List<Rule> rules;
    private final GitIgnore parent;

    private GitIgnore(Path base, List<Rule> rules, GitIgnore parent) {
        this.base = base;
        this.rules = rules;
        this.parent = parent;
    }

    static GitIgnore root(Path dir) {
        return of(dir, null);
    }

    /** The rules for {@code dir}: its own .gitignore on top of its parent's. */
    static GitIgnore of(Path dir, GitIgnore parent) {
        Path file = dir.resolve(".gitignore");
        if (!Files.isRegularFile(file)) {
            return parent == null ? new GitIgnore(dir, List.of(), null) : parent;
        }
        List<Rule> rules = new ArrayList<>();
        try {
            for (String raw : Files.readAllLines(file)) {
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                boolean negated = line.startsWith("!");
                if (negated) {
                    line = line.substring(1);
                }
                boolean foldersOnly = line.endsWith("/");
                if (foldersOnly) {
                    line = line.substring(0, line.length() - 1);
                }
                boolean anchored = line.contains("/");
                if (line.startsWith("/")) {
                    line = line.substring(1);
                }
                rules.add(new Rule(Pattern.compile((anchored ? "" : "(?:.*/)?") + glob(line)), negated, foldersOnly));
            }
        } catch (IOException e) {
            return parent == null ? new GitIgnore(dir, List.of(), null) : parent;
        }
        return new GitIgnore(dir, rules, parent);
    }

    boolean ignored(Path path, boolean folder) {
        Boolean verdict = null;
        for (GitIgnore g = this; g != null && verdict == null; g = g.parent) {
            String rel = g.base.relativize(path).toString().replace('\\', '/');
            for (Rule r : g.rules) {
                if ((!r.foldersOnly || folder) && r.pattern.matcher(rel).matches()) {
                    verdict = !r.negated; // later rules of the same file win
                }
            }
        }
        return verdict != null && verdict;
    }

    private static String glob(String g) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < g.length(); i++) {
            char ch = g.charAt(i);
            if (ch == '*' && i + 1 < g.length() && g.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
                if (i + 1 < g.length() && g.charAt(i + 1) == '/') {
                    i++;
                    re.append("/?");
                }
            } else if (ch == '*') {
                re.append("[^/]*");
            } else if (ch == '?') {
                re.append("[^/]");
            } else {
                re.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return re.toString();
    }
}
