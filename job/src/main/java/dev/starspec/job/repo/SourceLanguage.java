package dev.starspec.job.repo;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.treesitter.TSLanguage;
import org.treesitter.TreeSitterC;
import org.treesitter.TreeSitterCpp;
import org.treesitter.TreeSitterGo;
import org.treesitter.TreeSitterJava;
import org.treesitter.TreeSitterJavascript;
import org.treesitter.TreeSitterPython;
import org.treesitter.TreeSitterRust;
import org.treesitter.TreeSitterTypescript;

/**
 * A language whose definitions become prompts: the file extensions it is known by, its tree-sitter grammar, the
 * syntax nodes that are functions, methods and classes (each with a {@code body} field), and where its
 * documentation lives: a docstring opening the body (Python) or comments right above the definition, in the
 * language's own convention.
 */
public enum SourceLanguage {
    PYTHON(Set.of("py", "pyi"), TreeSitterPython::new, Doc.DOCSTRING,
            Set.of("function_definition", "class_definition")),
    JAVA(Set.of("java"), TreeSitterJava::new, Doc.DOC_BLOCK,
            Set.of("method_declaration", "constructor_declaration", "compact_constructor_declaration",
                    "class_declaration", "interface_declaration", "enum_declaration", "record_declaration")),
    JAVASCRIPT(Set.of("js", "mjs", "cjs", "jsx"), TreeSitterJavascript::new, Doc.DOC_BLOCK,
            Set.of("function_declaration", "generator_function_declaration", "method_definition", "class_declaration")),
    TYPESCRIPT(Set.of("ts", "mts", "cts"), TreeSitterTypescript::new, Doc.DOC_BLOCK,
            Set.of("function_declaration", "generator_function_declaration", "method_definition", "class_declaration",
                    "abstract_class_declaration", "interface_declaration")),
    GO(Set.of("go"), TreeSitterGo::new, Doc.LINE_COMMENTS,
            Set.of("function_declaration", "method_declaration")),
    RUST(Set.of("rs"), TreeSitterRust::new, Doc.RUST_DOC,
            Set.of("function_item", "impl_item", "trait_item")),
    C(Set.of("c", "h"), TreeSitterC::new, Doc.COMMENTS,
            Set.of("function_definition")),
    CPP(Set.of("cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "ipp"), TreeSitterCpp::new, Doc.COMMENTS,
            Set.of("function_definition", "class_specifier", "struct_specifier"));

    /** Where a definition's documentation is found. */
    enum Doc {
        /** A string literal as the body's first statement. */
        DOCSTRING,
        /** The {@code /** ... *}{@code /} comment right above (Javadoc, JSDoc, TSDoc). */
        DOC_BLOCK,
        /** The run of {@code //} comments right above, no blank line between (Go's doc comments). */
        LINE_COMMENTS,
        /** The run of {@code ///} and {@code /** *}{@code /} comments and attributes right above. */
        RUST_DOC,
        /** The run of comments of any style right above (C and C++ have no single convention; Doxygen takes all). */
        COMMENTS
    }

    private final Set<String> extensions;
    private final Supplier<TSLanguage> grammar;
    private final Doc doc;
    private final Set<String> definitions;

    SourceLanguage(Set<String> extensions, Supplier<TSLanguage> grammar, Doc doc, Set<String> definitions) {
        this.extensions = extensions;
        this.grammar = grammar;
        this.doc = doc;
        this.definitions = definitions;
    }

    /** The language of a file, by its extension. */
    public static Optional<SourceLanguage> of(String fileName) {
        int dot = fileName.lastIndexOf('.');
        if (dot < 0) {
            return Optional.empty();
        }
        String ext = fileName.substring(dot + 1).toLowerCase(Locale.ROOT);
        for (SourceLanguage l : values()) {
            if (l.extensions.contains(ext)) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    /** As it appears in the output's {@code language} column. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    TSLanguage grammar() {
        return grammar.get();
    }

    Doc doc() {
        return doc;
    }

    boolean isDefinition(String nodeType) {
        return definitions.contains(nodeType);
    }
}
