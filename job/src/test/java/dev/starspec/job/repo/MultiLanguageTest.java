package dev.starspec.job.repo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A source tree in eight languages with nested .gitignore files, a file that does not parse and a binary file:
 * the prompts each language's conventions give, ids with path and line span, skipped files counted; and the same
 * tree read from a git revision without a checkout.
 */
class MultiLanguageTest {

    static final String JAVA = """
            package demo;

            /** A counter. */
            public class Counter {
                private int n;

                /**
                 * Adds one.
                 * @return the new count
                 */
                @Override
                public int increment() {
                    return ++n;
                }

                // not documentation: a blank line follows

                abstract void noBody();
            }
            """;

    static final String JS = """
            /**
             * Doubles x.
             */
            export function double(x) {
              return 2 * x;
            }

            class Shape {
              area() { return 0; }
            }
            """;

    static final String TS = """
            /** A greeting. */
            function greet(name: string): string {
              return `hi ${name}`;
            }

            interface Named {
              name: string;
            }
            """;

    static final String GO = """
            package demo

            // Sum adds the numbers.
            // It returns 0 for none.
            func Sum(xs []int) int {
            \ts := 0
            \tfor _, x := range xs {
            \t\ts += x
            \t}
            \treturn s
            }

            func (c *Counter) Inc() {
            \tc.n++
            }
            """;

    static final String RUST = """
            /// Squares a number.
            #[inline]
            pub fn square(x: i32) -> i32 {
                x * x
            }

            impl Point {
                // plain comment
                fn norm(&self) -> f64 {
                    (self.x * self.x + self.y * self.y).sqrt()
                }
            }
            """;

    static final String C = """
            #include <stdio.h>

            /* Prints a greeting. */
            // Twice.
            void hello(void) {
                puts("hello");
                puts("hello");
            }

            int stub(void) {}
            """;

    static final String CPP = """
            // A stack of ints.
            class Stack {
             public:
              int top() const {
                return items_.back();
              }
             private:
              std::vector<int> items_;
            };

            template <typename T>
            T twice(T x) { return x + x; }
            """;

    static final String PYTHON = """
            def add(a, b):
                \"\"\"Return a + b.\"\"\"
                return a + b
            """;

    /** The tree: eight languages, a nested .gitignore, an unparseable file, a binary file, an unknown extension. */
    static Path tree(Path root) throws IOException {
        write(root, "src/demo/Counter.java", JAVA);
        write(root, "web/app.js", JS);
        write(root, "web/greet.ts", TS);
        write(root, "go/sum.go", GO);
        write(root, "rust/lib.rs", RUST);
        write(root, "c/hello.c", C);
        write(root, "cpp/stack.cpp", CPP);
        write(root, "py/add.py", PYTHON);
        write(root, "py/broken.py", "def broken(:\n    return\n");
        Files.createDirectories(root.resolve("c"));
        Files.write(root.resolve("c/blob.h"), new byte[] {'i', 'n', 't', 0, 1, 2, 3, '\n'});
        write(root, "README.md", "# not source\n");
        write(root, ".gitignore", "/build/\n*.min.js\n");
        write(root, "web/.gitignore", "generated/\n!keep.min.js\n");
        write(root, "web/vendor.min.js", "function ignored() {\n  return 1;\n}\n");
        write(root, "web/keep.min.js", "function kept() {\n  return 1;\n}\n");
        write(root, "web/generated/gen.ts", "function gen(): void {\n  return;\n}\n");
        write(root, "build/out.c", "void out(void) {\n  return;\n}\n");
        return root;
    }

    private static void write(Path root, String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    static final Map<String, String> EXPECTED = new TreeMap<>(Map.ofEntries(
            Map.entry("src/demo/Counter.java:4-19", "/** A counter. */\npublic class Counter {\n"),
            Map.entry("src/demo/Counter.java:11-14", "    /**\n     * Adds one.\n     * @return the new count\n     */\n"
                    + "    @Override\n    public int increment() {\n"),
            Map.entry("web/app.js:4-6", "/**\n * Doubles x.\n */\nexport function double(x) {\n"),
            Map.entry("web/app.js:8-10", "class Shape {\n"),
            Map.entry("web/app.js:9-9", "  area() {"),
            Map.entry("web/keep.min.js:1-3", "function kept() {\n"),
            Map.entry("web/greet.ts:2-4", "/** A greeting. */\nfunction greet(name: string): string {\n"),
            Map.entry("web/greet.ts:6-8", "interface Named {\n"),
            Map.entry("go/sum.go:5-11", "// Sum adds the numbers.\n// It returns 0 for none.\nfunc Sum(xs []int) int {\n"),
            Map.entry("go/sum.go:13-15", "func (c *Counter) Inc() {\n"),
            Map.entry("rust/lib.rs:3-5", "/// Squares a number.\n#[inline]\npub fn square(x: i32) -> i32 {\n"),
            Map.entry("rust/lib.rs:7-12", "impl Point {\n"),
            Map.entry("rust/lib.rs:9-11", "    fn norm(&self) -> f64 {\n"),
            Map.entry("c/hello.c:5-8", "/* Prints a greeting. */\n// Twice.\nvoid hello(void) {\n"),
            Map.entry("c/hello.c:10-10", "int stub(void) {"),
            Map.entry("cpp/stack.cpp:2-9", "// A stack of ints.\nclass Stack {\n"),
            Map.entry("cpp/stack.cpp:4-6", "  int top() const {\n"),
            Map.entry("cpp/stack.cpp:12-12", "template <typename T>\nT twice(T x) {"),
            Map.entry("py/add.py:1-3", "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n")));

    private static Map<String, String> prompts(RepoPrompts.Scan scan) {
        Map<String, String> out = new TreeMap<>();
        scan.prompts().forEach(p -> out.put(p.id(), p.prompt()));
        return out;
    }

    @Test
    void eachLanguageGivesItsDefinitionsWithTheirDocumentation(@TempDir Path tmp) throws IOException {
        RepoPrompts.Scan scan = RepoPrompts.scan(SourceTree.folder(tree(tmp)), false);
        assertEquals(EXPECTED, prompts(scan));
        Map<String, String> languages = new TreeMap<>();
        scan.prompts().forEach(p -> languages.put(p.id().substring(0, p.id().indexOf(':')), p.language()));
        assertEquals(Map.of("src/demo/Counter.java", "java", "web/app.js", "javascript", "web/keep.min.js", "javascript",
                "web/greet.ts", "typescript", "go/sum.go", "go", "rust/lib.rs", "rust", "c/hello.c", "c",
                "cpp/stack.cpp", "cpp", "py/add.py", "python"), languages);
        assertEquals(3, scan.ignored(), "build/, web/vendor.min.js and web/generated/");
        assertEquals(1, scan.unparseable(), "py/broken.py");
        assertEquals(1, scan.binary(), "c/blob.h");
        assertEquals(9, scan.files().values().stream().mapToInt(Integer::intValue).sum(), scan.toString());
    }

    @Test
    void fillInTheMiddleHoldsPrefixAndSuffix(@TempDir Path tmp) throws IOException {
        Map<String, String> fim = prompts(RepoPrompts.scan(SourceTree.folder(tree(tmp)), true));
        assertEquals(EXPECTED.keySet(), fim.keySet());
        String sum = fim.get("go/sum.go:5-11");
        assertEquals("<fim_prefix>" + GO.substring(0, GO.indexOf("int {\n") + 6) + "<fim_suffix>"
                + GO.substring(GO.indexOf("}\n\nfunc (c")) + "<fim_middle>", sum);
        String area = fim.get("web/app.js:9-9");
        assertTrue(area.contains("  area() {<fim_suffix>}\n}\n"), area);
        assertTrue(area.endsWith("<fim_middle>") && !area.contains("return 0"), area);
    }

    /** A revision read through JGit gives what its checkout gives, whatever the working folder holds now. */
    @Test
    void aGitRevisionReadsLikeItsCheckout(@TempDir Path tmp) throws Exception {
        Path work = tree(tmp.resolve("work"));
        try (Git git = Git.init().setDirectory(work.toFile()).setInitialBranch("main").call()) {
            git.add().addFilepattern(".").call();
            git.commit().setMessage("first").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com")
                    .setSign(false).call();
            git.tag().setName("v1").call();
            // after the tag: a new file, committed, and an uncommitted change
            write(work, "py/more.py", "def more():\n    return 1\n");
            git.add().addFilepattern(".").call();
            git.commit().setMessage("second").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com")
                    .setSign(false).call();
        }
        write(work, "py/add.py", "def changed():\n    return 2\n");
        Map<String, String> atTag = prompts(RepoPrompts.scan(SourceTree.revision(work, "v1"), false));
        assertEquals(EXPECTED, atTag, "the tagged revision, not the working folder");

        Path bare = tmp.resolve("repo.git");
        Git.cloneRepository().setURI(work.toUri().toString()).setDirectory(bare.toFile()).setBare(true).call().close();
        assertTrue(SourceTree.isGitDirectory(bare));
        Map<String, String> head = prompts(RepoPrompts.scan(SourceTree.revision(bare, "HEAD"), false));
        Map<String, String> expected = new TreeMap<>(EXPECTED);
        expected.put("py/more.py:1-2", "def more():\n");
        assertEquals(expected, head, "a bare clone's HEAD: both commits, without the uncommitted change");
    }
}
