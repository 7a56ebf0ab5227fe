package dev.starspec.job.generate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Bulk code generation over a source tree: every Python function and class becomes a prompt, identified by its
 * file and line span. The plain prompt is the definition's signature and docstring; with fill-in-the-middle it
 * is StarCoder's {@code <fim_prefix>code before the body<fim_suffix>code after it<fim_middle>}. Folders and
 * files that .gitignore excludes, and .git itself, are skipped.
 */
public final class RepoPrompts {

    /** One prompt: {@code path:first-last} (1-based lines of the whole definition). */
    public record Prompt(String id, String prompt) {}

    static final String FIM_PREFIX = "<fim_prefix>";
    static final String FIM_SUFFIX = "<fim_suffix>";
    static final String FIM_MIDDLE = "<fim_middle>";

    private static final Pattern DEF = Pattern.compile("^([ \\t]*)(?:async[ \\t]+)?(def|class)[ \\t]+\\w+");

    private RepoPrompts() {}

    public static List<Prompt> scan(Path root, boolean fim) {
        List<Prompt> out = new ArrayList<>();
        walk(root, root, GitIgnore.root(root), fim, out);
        return out;
    }

    private static void walk(Path root, Path dir, GitIgnore rules, boolean fim, List<Prompt> out) {
        GitIgnore here = GitIgnore.of(dir, rules);
        List<Path> children;
        try (Stream<Path> s = Files.list(dir)) {
            children = s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        for (Path p : children) {
            boolean folder = Files.isDirectory(p);
            if (p.getFileName().toString().equals(".git") || here.ignored(p, folder)) {
                continue;
            }
            if (folder) {
                walk(root, p, here, fim, out);
            } else if (p.toString().endsWith(".py")) {
                String text;
                try {
                    text = Files.readString(p, StandardCharsets.UTF_8);
                } catch (MalformedInputException notUtf8) {
                    continue;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + p, e);
                }
                out.addAll(prompts(root.relativize(p).toString().replace('\\', '/'), text, fim));
            }
        }
    }

    /** The prompts of one Python file. */
    static List<Prompt> prompts(String path, String text, boolean fim) {
        List<String> lines = text.lines().toList();
        int[] offsets = new int[lines.size() + 1];
        for (int i = 0, at = 0; i < lines.size(); i++) {
            offsets[i] = at;
            at = Math.min(text.length(), at + lines.get(i).length() + 1);
            offsets[i + 1] = at;
        }
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = DEF.matcher(lines.get(i));
            if (!m.find()) {
                continue;
            }
            int indent = m.group(1).length();
            int sigEnd = signatureEnd(lines, i);
            if (sigEnd < 0) {
                continue;
            }
            int bodyStart = sigEnd + 1;
            int docEnd = docstringEnd(lines, bodyStart);
            int last = sigEnd;
            for (int j = bodyStart; j < lines.size(); j++) {
                String l = lines.get(j);
                if (l.isBlank()) {
                    continue;
                }
                if (indentOf(l) <= indent) {
                    break;
                }
                last = j;
            }
            if (last == sigEnd) {
                continue; // a one-line definition has no body to generate
            }
            int promptEnd = docEnd >= 0 ? docEnd : sigEnd;
            String id = path + ":" + (i + 1) + "-" + (last + 1);
            if (fim) {
                out.add(new Prompt(id, FIM_PREFIX + text.substring(0, offsets[promptEnd + 1]) + FIM_SUFFIX
                        + text.substring(offsets[last + 1]) + FIM_MIDDLE));
            } else {
                out.add(new Prompt(id, text.substring(offsets[i], offsets[promptEnd + 1])));
            }
        }
        return out;
    }

    /** The line where the signature's colon ends it (brackets balanced), or -1. */
    private static int signatureEnd(List<String> lines, int from) {
        int depth = 0;
        for (int j = from; j < lines.size() && j < from + 50; j++) {
            String code = stripComment(lines.get(j));
            for (char ch : code.toCharArray()) {
                if (ch == '(' || ch == '[' || ch == '{') {
                    depth++;
                } else if (ch == ')' || ch == ']' || ch == '}') {
                    depth--;
                }
            }
            if (depth <= 0 && code.stripTrailing().endsWith(":")) {
                return j;
            }
        }
        return -1;
    }

    /** The last line of a docstring opening the body at {@code from}, or -1 if the body has none. */
    private static int docstringEnd(List<String> lines, int from) {
        int j = from;
        while (j < lines.size() && lines.get(j).isBlank()) {
            j++;
        }
        if (j >= lines.size()) {
            return -1;
        }
        String first = lines.get(j).strip();
        String quote = first.startsWith("\"\"\"") || first.matches("^[rRuU]?\"\"\".*") ? "\"\"\""
                : first.startsWith("'''") || first.matches("^[rRuU]?'''.*") ? "'''" : null;
        if (quote == null) {
            return -1;
        }
        int open = first.indexOf(quote);
        if (first.indexOf(quote, open + 3) >= 0) {
            return j;
        }
        for (int k = j + 1; k < lines.size(); k++) {
            if (lines.get(k).contains(quote)) {
                return k;
            }
        }
        return -1;
    }

    private static String stripComment(String line) {
        int hash = line.indexOf('#');
        return hash >= 0 ? line.substring(0, hash) : line;
    }

    private static int indentOf(String line) {
        int n = 0;
        while (n < line.length() && (line.charAt(n) == ' ' || line.charAt(n) == '\t')) {
            n++;
        }
        return n;
    }
}
