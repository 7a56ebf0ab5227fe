package dev.starspec.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.starspec.engine.testing.ProjectFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The StarCoder tokenizer reproduces ids produced elsewhere: 100 vectors from Hugging Face's own
 * {@code AutoTokenizer("bigcode/starcoder")} (ggml's examples/prompts) and llama.cpp's 46 tricky strings.
 */
class TokenizerVectorsTest {

    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = Tokenizer.load(ProjectFiles.starcoderTokenizer());
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void reproducesHuggingFaceIdsForAllHundredPrompts() throws IOException {
        Path file = ProjectFiles.data("tokenizer/starcoder/hf-bigcode-starcoder-token-ids.ggml-prompts.txt");
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals(100, lines.size());
        List<String> failures = new ArrayList<>();
        for (String line : lines) {
            int arrow = line.lastIndexOf(" => ");
            String text = line.substring(0, arrow);
            int[] expected = Arrays.stream(line.substring(arrow + 4).split(",")).mapToInt(Integer::parseInt).toArray();
            int[] got = tokenizer.encode(text);
            if (!Arrays.equals(expected, got)) {
                failures.add(text + " => " + Arrays.toString(got) + ", expected " + Arrays.toString(expected));
            }
            assertEquals(text, tokenizer.decode(got), "round trip of " + text);
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void reproducesLlamaCppVocabTestStrings() throws IOException {
        String inp = Files.readString(ProjectFiles.data("tokenizer/starcoder/ggml-vocab-starcoder.gguf.inp"), StandardCharsets.UTF_8);
        String out = Files.readString(ProjectFiles.data("tokenizer/starcoder/ggml-vocab-starcoder.gguf.out"), StandardCharsets.UTF_8);
        String[] texts = inp.split("\n__ggml_vocab_test__\n", -1);
        String[] ids = out.split("\n", -1);
        assertEquals(47, texts.length, "46 strings and the empty tail after the last separator");
        for (int i = 0; i < 46; i++) {
            int[] expected = ids[i].isBlank() ? new int[0]
                    : Arrays.stream(ids[i].trim().split(" ")).mapToInt(Integer::parseInt).toArray();
            assertArrayEquals(expected, tokenizer.encode(texts[i]), "string " + i + ": " + texts[i]);
        }
    }

    @Test
    void fingerprintIgnoresFormattingButNotContent(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Path original = ProjectFiles.starcoderTokenizer();
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var tree = mapper.readTree(original.toFile());
        Path pretty = tmp.resolve("pretty.json");
        Files.writeString(pretty, tree.toPrettyString());
        assertEquals(Tokenizer.fingerprint(original), Tokenizer.fingerprint(pretty));

        ((com.fasterxml.jackson.databind.node.ObjectNode) tree.path("model").path("vocab")).put("zzz_not_a_token", 49152);
        Path changed = tmp.resolve("changed.json");
        Files.writeString(changed, tree.toString());
        org.junit.jupiter.api.Assertions.assertNotEquals(Tokenizer.fingerprint(original), Tokenizer.fingerprint(changed));
    }

    @Test
    void specialTokensEncodeAsThemselves() {
        assertArrayEquals(new int[] {1, 589, 2}, Arrays.copyOf(tokenizer.encode("<fim_prefix>def<fim_middle>"), 3));
        assertEquals("<|endoftext|>", tokenizer.decode(new int[] {0}));
    }
}
