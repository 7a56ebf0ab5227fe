package dev.starspec.engine.decode;

/**
 * Per-generation latency, on {@link System#nanoTime()}. Tokens that become known together (an accepted run of
 * draft tokens) share one timestamp.
 */
final class LatencyClock {

    private final long start;
    private long first = -1;
    private long last = -1;

    /** @param start when the row was admitted (before its prompt was tokenized) */
    LatencyClock(long start) {
        this.start = start;
    }

    /** Some tokens just became known. */
    void tokensOut() {
        long now = System.nanoTime();
        if (first < 0) {
            first = now;
        }
        last = now;
    }

    double ttftMs() {
        return first < 0 ? Double.NaN : (first - start) / 1e6;
    }

    double tpotMs(int tokens) {
        return tokens < 2 ? Double.NaN : (last - first) / 1e6 / (tokens - 1);
    }

    double sinceStartMs() {
        return (System.nanoTime() - start) / 1e6;
    }
}
