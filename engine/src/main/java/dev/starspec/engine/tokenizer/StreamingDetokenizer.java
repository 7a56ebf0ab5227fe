package dev.starspec.engine.tokenizer;

import java.util.Arrays;

/**
 * Turns tokens into text one at a time. A byte-level token can end inside a multi-byte UTF-8 character; such a
 * token's text is held back until a later token completes the character, so no character is ever split into
 * replacement characters. Each call decodes only the few tokens since the last emitted text.
 */
public final class StreamingDetokenizer {

    private final Tokenizer tokenizer;
    private int[] ids = new int[64];
    private int count;
    /** Tokens before this index have been emitted and are not decoded again. */
    private int prefixOffset;
    /** Tokens before this index are reflected in the emitted text. */
    private int readOffset;

    public StreamingDetokenizer(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds a token; returns the new text it completes (often all of its text, possibly empty). */
    public String add(int token) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, 2 * count);
        }
        ids[count++] = token;
        String before = tokenizer.decode(ids, prefixOffset, readOffset);
        String after = tokenizer.decode(ids, prefixOffset, count);
        if (after.length() > before.length() && !after.endsWith("\uFFFD")) {
            prefixOffset = readOffset;
            readOffset = count;
            return after.substring(before.length());
        }
        return "";
    }

    /** Text still held back at the end of the generation (an unfinished character, decoded as is). */
    public String flush() {
        if (readOffset == count) {
            return "";
        }
        String before = tokenizer.decode(ids, prefixOffset, readOffset);
        String after = tokenizer.decode(ids, prefixOffset, count);
        prefixOffset = readOffset = count;
        return after.length() > before.length() ? after.substring(before.length()) : "";
    }
}
