package dev.starspec.engine.decode;

import org.apache.arrow.memory.BufferAllocator;

/**
 * Drafting without a draft model (prompt lookup decoding): find the longest recent n-gram (up to
 * {@code maxNgram} tokens) that ends the text so far and also occurs earlier in it, and propose the tokens that
 * followed its most recent earlier occurrence. Code repeats itself (names, signatures, boilerplate), so these
 * proposals are often right, and they cost no model pass at all.
 */
public final class PromptLookupDrafter implements Drafter {

    public static final String ID = "prompt-lookup";
    private final int maxNgram;

    public PromptLookupDrafter(int maxNgram) {
        if (maxNgram < 1) {
            throw new IllegalArgumentException("n-gram size must be at least 1");
        }
        this.maxNgram = maxNgram;
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Session start(int capacity, BufferAllocator memory, TokenSampler sampler) {
        return new Session() {
            @Override
            public int propose(int[] tokens, int length, int k, DraftLength policy, int[] out, int offset, double[][] q) {
                return lookup(tokens, length, k, out, offset);
            }

            @Override
            public void keep(int length) {}

            @Override
            public long passes() {
                return 0;
            }

            @Override
            public void close() {}
        };
    }

    /** Copies the continuation of the longest, most recent earlier match of the text's final n-gram. */
    int lookup(int[] tokens, int length, int k, int[] out, int offset) {
        for (int n = Math.min(maxNgram, length - 1); n >= 1; n--) {
            for (int start = length - n - 1; start >= 0; start--) {
                if (matches(tokens, start, length - n, n)) {
                    int from = start + n;
                    int count = Math.min(k, length - from);
                    System.arraycopy(tokens, from, out, offset, count);
                    return count;
                }
            }
        }
        return 0;
    }

    private static boolean matches(int[] tokens, int a, int b, int n) {
        for (int i = 0; i < n; i++) {
            if (tokens[a + i] != tokens[b + i]) {
                return false;
            }
        }
        return true;
    }
}
