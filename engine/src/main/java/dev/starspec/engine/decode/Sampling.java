package dev.starspec.engine.decode;

/**
 * How the next token is chosen. Temperature 0 is greedy (argmax); otherwise tokens are drawn from
 * softmax(logits / temperature), restricted to the {@code topK} most likely (0 = all) and to the smallest set
 * whose probability reaches {@code topP}, from a random stream seeded with {@code seed}.
 */
public record Sampling(double temperature, double topP, int topK, long seed) {

    public static final Sampling GREEDY = new Sampling(0, 1, 0, 0);

    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must lie in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        }
    }

    public static Sampling of(double temperature, long seed) {
        return new Sampling(temperature, 1, 0, seed);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
