package dev.starspec.job.repo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.treesitter.TSInputEncoding;
import org.treesitter.TSNode;
import org.treesitter.TSParser;
import org.treesitter.TSTree;

/**
 * Finds the definitions of one source file through its tree-sitter syntax tree and makes each a prompt.
 *
 * <p>The plain prompt is what a programmer sees before writing the body: the documentation in the language's own
 * convention and the signature, up to and including the line that opens the body (Python: through the docstring;
 * brace languages: through the {@code {}). With fill-in-the-middle it is StarCoder's
 * {@code <fim_prefix>the file up to the body<fim_suffix>the file after it<fim_middle>}. A stub (a docstring or an
 * empty {@code {}} for a body) is a prompt too: filling stubs is one of the jobs; a Python one-liner, whose body
 * shares the signature's line, is not. All offsets are in UTF-8 bytes, as tree-sitter counts them.
 */
final class Definitions {

    static final String FIM_PREFIX = "<fim_prefix>";
    static final String FIM_SUFFIX = "<fim_suffix>";
    static final String FIM_MIDDLE = "<fim_middle>";

    private static final Set<String> COMMENTS = Set.of("comment", "line_comment", "block_comment");
    /** Nodes that wrap a definition without being part of its name: its documentation sits above them. */
    private static final Set<String> WRAPPERS = Set.of("export_statement", "template_declaration");

    /** One prompt: {@code path:first-last} (1-based lines of the definition). */
    record Prompt(String id, String prompt) {}

    private final Map<SourceLanguage, TSParser> parsers = new EnumMap<>(SourceLanguage.class);

    /**
     * The file's prompts; empty when it does not parse (tree-sitter found a syntax error).
     *
     * @param utf8 the file's bytes (tree-sitter's offsets count them), {@code text} the same decoded
     */
    Optional<List<Prompt>> of(String path, byte[] utf8, String text, SourceLanguage language, boolean fim) {
        TSParser parser = parsers.computeIfAbsent(language, l -> {
            TSParser p = new TSParser();
            p.setLanguage(l.grammar());
            return p;
        });
        try (TSTree tree = parser.parseStringEncoding(null, text,
                TSInputEncoding.TSInputEncodingUTF8)) {
            TSNode root = tree.getRootNode();
            if (root.hasError()) {
                return Optional.empty();
            }
            File file = new File(path, utf8, language, fim);
            List<Prompt> out = new ArrayList<>();
            file.collect(root, out);
            return Optional.of(out);
        }
    }

    /** One file's text and line starts, and the prompts made from it. */
    private record File(String path, byte[] b, SourceLanguage language, boolean fim, int[] lineStarts) {

        File(String path, byte[] b, SourceLanguage language, boolean fim) {
            this(path, b, language, fim, lineStarts(b));
        }

        void collect(TSNode node, List<Prompt> out) {
            if (language.isDefinition(node.getType())) {
                TSNode body = node.getChildByFieldName("body");
                if (body != null && !body.isNull()) {
                    Prompt p = language == SourceLanguage.PYTHON ? python(node, body) : braces(node, body);
                    if (p != null) {
                        out.add(p);
                    }
                }
            }
            for (int i = 0; i < node.getNamedChildCount(); i++) {
                collect(node.getNamedChild(i), out);
            }
        }

        /** From the {@code def}/{@code class} line through the docstring (or the signature's last line). */
        private Prompt python(TSNode def, TSNode body) {
            int colonRow = def.getStartPoint().getRow();
            for (int i = 0; i < def.getChildCount(); i++) {
                TSNode child = def.getChild(i);
                if (child.getType().equals(":") && child.getStartByte() < body.getStartByte()) {
                    colonRow = child.getStartPoint().getRow();
                }
            }
            if (body.getStartPoint().getRow() == colonRow) {
                return null; // a one-line definition has no body to generate
            }
            int promptEndRow = colonRow;
            TSNode first = body.getNamedChildCount() > 0 ? body.getNamedChild(0) : null;
            if (first != null && first.getType().equals("expression_statement") && first.getNamedChildCount() == 1
                    && first.getNamedChild(0).getType().equals("string")) {
                promptEndRow = lastRow(first);
            }
            int firstRow = def.getStartPoint().getRow();
            int lastRow = Math.max(lastRow(def), promptEndRow);
            int bodyStart = lineEnd(promptEndRow);
            int bodyEnd = lineEnd(lastRow);
            return prompt(firstRow, lastRow, lineStarts[firstRow], bodyStart, bodyEnd);
        }

        /** From the documentation above through the body's opening brace. */
        private Prompt braces(TSNode def, TSNode body) {
            if (b[body.getStartByte()] != '{' || b[body.getEndByte() - 1] != '}') {
                return null; // a body without braces (an expression body, say): not a block to fill in
            }
            int open = body.getStartByte() + 1;
            int rest = open;
            while (rest < b.length && (b[rest] == ' ' || b[rest] == '\t' || b[rest] == '\r')) {
                rest++;
            }
            int bodyStart = rest < b.length && b[rest] == '\n' ? rest + 1 : open;
            int bodyEnd = Math.max(bodyStart, body.getEndByte() - 1);
            TSNode anchor = def;
            while (!anchor.getParent().isNull() && WRAPPERS.contains(anchor.getParent().getType())) {
                anchor = anchor.getParent();
            }
            int docStart = documentationStart(anchor);
            int firstRow = def.getStartPoint().getRow();
            return prompt(firstRow, lastRow(def), lineStarts[row(docStart)], bodyStart, bodyEnd);
        }

        private Prompt prompt(int firstRow, int lastRow, int promptStart, int bodyStart, int bodyEnd) {
            String id = path + ":" + (firstRow + 1) + "-" + (lastRow + 1);
            String text = fim
                    ? FIM_PREFIX + text(0, bodyStart) + FIM_SUFFIX + text(bodyEnd, b.length) + FIM_MIDDLE
                    : text(promptStart, bodyStart);
            return new Prompt(id, text);
        }

        /**
         * Where the definition's documentation begins (its own start without any): the comments right above it,
         * each on its own lines and with no blank line between, as the language's convention has them.
         */
        private int documentationStart(TSNode anchor) {
            int start = anchor.getStartByte();
            int startRow = anchor.getStartPoint().getRow();
            SourceLanguage.Doc doc = language.doc();
            for (TSNode prev = anchor.getPrevSibling(); prev != null && !prev.isNull(); prev = prev.getPrevSibling()) {
                boolean comment = COMMENTS.contains(prev.getType());
                boolean attribute = prev.getType().equals("attribute_item");
                if (!comment && !(attribute && doc == SourceLanguage.Doc.RUST_DOC)) {
                    break;
                }
                if (lastRow(prev) < startRow - 1 || !blank(lineStarts[prev.getStartPoint().getRow()], prev.getStartByte())) {
                    break; // a blank line between, or a comment trailing code on its line
                }
                String text = text(prev.getStartByte(), prev.getEndByte());
                boolean fits = switch (doc) {
                    case DOC_BLOCK -> text.startsWith("/**");
                    case LINE_COMMENTS -> text.startsWith("//");
                    case RUST_DOC -> attribute || text.startsWith("///") && !text.startsWith("////")
                            || text.startsWith("/**");
                    case COMMENTS -> true;
                    case DOCSTRING -> false;
                };
                if (!fits) {
                    break;
                }
                start = prev.getStartByte();
                startRow = prev.getStartPoint().getRow();
                if (doc == SourceLanguage.Doc.DOC_BLOCK) {
                    break; // one doc comment
                }
            }
            return start;
        }

        /** The last row a node's text is on (a node ending with its newline ends on the row before). */
        private int lastRow(TSNode n) {
            int row = n.getEndPoint().getRow();
            return n.getEndPoint().getColumn() == 0 && row > n.getStartPoint().getRow() ? row - 1 : row;
        }

        /** The offset just past the row's newline (or the end of the file). */
        private int lineEnd(int row) {
            return row + 1 < lineStarts.length ? lineStarts[row + 1] : b.length;
        }

        private int row(int offset) {
            int at = Arrays.binarySearch(lineStarts, offset);
            return at >= 0 ? at : -at - 2;
        }

        private boolean blank(int from, int to) {
            for (int i = from; i < to; i++) {
                if (b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r') {
                    return false;
                }
            }
            return true;
        }

        private String text(int from, int to) {
            return new String(b, from, to - from, StandardCharsets.UTF_8);
        }

        private static int[] lineStarts(byte[] b) {
            int lines = 1;
            for (int i = 0; i < b.length - 1; i++) {
                if (b[i] == '\n') {
                    lines++;
                }
            }
            int[] starts = new int[lines];
            for (int i = 0, row = 1; i < b.length - 1; i++) {
                if (b[i] == '\n') {
                    starts[row++] = i + 1;
                }
            }
            return starts;
        }
    }
}
