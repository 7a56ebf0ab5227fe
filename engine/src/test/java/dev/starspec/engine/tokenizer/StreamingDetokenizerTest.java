package dev.starspec.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.engine.testing.RandomCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text decoded token by token equals the whole text, and no piece ever carries half a character. */
class StreamingDetokenizerTest {

    static final String TEXT = "naïve café → 世界 🎉 done\n\tdef f(x): return x ** 2  # ½";

    @Test
    void byteTokensSplitEveryMultiByteCharacter(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("tokenizer.json");
        RandomCheckpoint.writeTokenizer(json, 257);
        try (Tokenizer t = Tokenizer.load(json)) {
            int[] ids = t.encode(TEXT);
            assertEquals(TEXT.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, ids.length, "one token per byte");
            assertStreamsExactly(t, ids);
        }
    }

    @Test
    void starcoderTokens() {
        try (Tokenizer t = Tokenizer.load(ProjectFiles.starcoderTokenizer())) {
            assertStreamsExactly(t, t.encode(TEXT));
        }
    }

    @Test
    void unfinishedCharacterAtTheEndIsFlushedNotLost(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("tokenizer.json");
        RandomCheckpoint.writeTokenizer(json, 257);
        try (Tokenizer t = Tokenizer.load(json)) {
            int[] euro = t.encode("a€"); // 'a' then the three bytes of U+20AC
            StreamingDetokenizer d = new StreamingDetokenizer(t);
            assertEquals("a", d.add(euro[0]));
            assertEquals("", d.add(euro[1]));
            assertEquals("", d.add(euro[2]));
            assertEquals("\uFFFD", d.flush(), "two of three bytes decode to one replacement character at the end");
        }
    }

    private static void assertStreamsExactly(Tokenizer t, int[] ids) {
        StreamingDetokenizer d = new StreamingDetokenizer(t);
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String piece = d.add(id);
            assertFalse(piece.contains("\uFFFD"), "piece with a broken character: " + piece);
            out.append(piece);
        }
        out.append(d.flush());
        assertEquals(TEXT, out.toString());
    }
}
