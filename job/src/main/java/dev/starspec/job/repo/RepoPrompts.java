package dev.starspec.job.repo;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Bulk code generation over a source tree: every function, method and class of every file in a language of
 * {@link SourceLanguage} becomes a prompt (see {@link Definitions}), identified by its file and line span. Files
 * that do not parse, binary files and files that are not UTF-8 are skipped and counted, never fatal.
 */
public final class RepoPrompts {

    /** One prompt: {@code path:first-last} (1-based lines of the definition), its text and its language. */
    public record Prompt(String id, String prompt, String language) {}

    /** What a scan found: the prompts, and the files per language and those it skipped. */
    public record Scan(List<Prompt> prompts, Map<SourceLanguage, Integer> files, int ignored, int unparseable,
                       int binary) {

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder(prompts.size() + " prompts from");
            files.forEach((l, n) -> s.append(' ').append(n).append(' ').append(l.label()));
            if (files.isEmpty()) {
                s.append(" no source files");
            }
            return s.append(String.format(" file(s); skipped: %d ignored by .gitignore, %d that do not parse, %d binary "
                    + "or not UTF-8", ignored, unparseable, binary)).toString();
        }
    }

    private RepoPrompts() {}

    public static Scan scan(SourceTree tree, boolean fim) {
        SourceTree.Listing listing = tree.list(path -> SourceLanguage.of(path).isPresent());
        Definitions definitions = new Definitions();
        List<Prompt> prompts = new ArrayList<>();
        Map<SourceLanguage, Integer> files = new EnumMap<>(SourceLanguage.class);
        int unparseable = 0;
        int binary = 0;
        for (SourceTree.SourceFile f : listing.files()) {
            SourceLanguage language = SourceLanguage.of(f.path()).orElseThrow();
            Optional<String> text = text(f.content());
            if (text.isEmpty()) {
                binary++;
                continue;
            }
            Optional<List<Definitions.Prompt>> found = definitions.of(f.path(), f.content(), text.get(), language, fim);
            if (found.isEmpty()) {
                unparseable++;
                continue;
            }
            files.merge(language, 1, Integer::sum);
            found.get().forEach(p -> prompts.add(new Prompt(p.id(), p.prompt(), language.label())));
        }
        return new Scan(prompts, files, listing.ignored(), unparseable, binary);
    }

    /** The file decoded, if it is UTF-8 without NUL bytes: what git would diff as text and a tokenizer should see. */
    private static Optional<String> text(byte[] content) {
        for (byte b : content) {
            if (b == 0) {
                return Optional.empty();
            }
        }
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(content)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}
