package dev.starspec.engine.decode;

import java.util.List;

/** {@link Draft.PromptLookup}: proposals copied from each row's own text, at no model cost. */
final class LookupDrafter implements Drafter {

    private final int maxNgram;

    LookupDrafter(int maxNgram) {
        this.maxNgram = maxNgram;
    }

    @Override
    public void reshape(int slots, int capacity) {}

    @Override
    public boolean fits(Prompt prompt) {
        return true;
    }

    @Override
    public void prefill(List<? extends Row<?>> rows, int[] counts) {}

    @Override
    public int room(Row<?> row) {
        return Integer.MAX_VALUE;
    }

    @Override
    public int behind(Row<?> row) {
        return 0;
    }

    @Override
    public void propose(List<? extends Row<?>> rows) {
        for (Row<?> r : rows) {
            r.n = r.k == 0 ? 0 : lookup(r.text, r.length, r.k, r.window, 1);
            java.util.Arrays.fill(r.q, null); // a copied token is certain: q = 1 for it
        }
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

    @Override
    public void keep(Row<?> row) {}

    @Override
    public void clear() {}

    @Override
    public void release(int slot) {}

    @Override
    public void close() {}
}
