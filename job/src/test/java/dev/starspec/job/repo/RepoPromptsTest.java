package dev.starspec.job.repo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Source-tree input, Python as it always was: one prompt per function or class, .gitignore honoured, FIM with the
 * code around it. {@link MultiLanguageTest} covers the other languages and git.
 */
class RepoPromptsTest {

    static final String MODULE = """
            import os


            def add(a, b):
                \"\"\"Return the sum of a and b.\"\"\"
                return a + b


            class Box:
                \"\"\"
                A box holding one value.
                \"\"\"

                def __init__(self, value):
                    self.value = value

                async def get(self,
                              default=None):
                    return self.value or default


            def one_liner(): return 1
            """;

    private static Path tree(Path root) throws IOException {
        Files.createDirectories(root.resolve("pkg/build"));
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve("pkg/mod.py"), MODULE);
        Files.writeString(root.resolve("pkg/build/generated.py"), "def skipped():\n    return 0\n");
        Files.writeString(root.resolve("pkg/secret_test.py"), "def skipped_too():\n    return 0\n");
        Files.writeString(root.resolve(".git/hook.py"), "def never():\n    return 0\n");
        Files.writeString(root.resolve("notes.txt"), "def not_python():\n    pass\n");
        Files.writeString(root.resolve(".gitignore"), "# build output\nbuild/\n*_test.py\n");
        return root;
    }

    @Test
    void everyDefinitionWithItsSpanAndDocstring(@TempDir Path tmp) throws IOException {
        Map<String, String> prompts = RepoPrompts.scan(SourceTree.folder(tree(tmp)), false).prompts().stream()
                .collect(Collectors.toMap(RepoPrompts.Prompt::id, RepoPrompts.Prompt::prompt));
        assertEquals(Map.of(
                "pkg/mod.py:4-6", "def add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n",
                "pkg/mod.py:9-19", "class Box:\n    \"\"\"\n    A box holding one value.\n    \"\"\"\n",
                "pkg/mod.py:14-15", "    def __init__(self, value):\n",
                "pkg/mod.py:17-19", "    async def get(self,\n                  default=None):\n"), prompts);
    }

    @Test
    void fillInTheMiddleKeepsTheCodeAroundTheBody(@TempDir Path tmp) throws IOException {
        List<RepoPrompts.Prompt> fim = RepoPrompts.scan(SourceTree.folder(tree(tmp)), true).prompts();
        RepoPrompts.Prompt add = fim.stream().filter(p -> p.id().equals("pkg/mod.py:4-6")).findFirst().orElseThrow();
        String p = add.prompt();
        assertTrue(p.startsWith("<fim_prefix>import os\n\n\ndef add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n<fim_suffix>"), p);
        assertTrue(p.endsWith("def one_liner(): return 1\n<fim_middle>"), p);
        assertTrue(p.contains("<fim_suffix>\n\nclass Box:"), "the suffix starts right after the body");
        assertTrue(!p.contains("return a + b"), "the body itself is what the model fills in");
    }
}
