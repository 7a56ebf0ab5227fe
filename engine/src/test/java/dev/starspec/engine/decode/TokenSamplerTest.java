package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.testing.TestArtifacts;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The filtered distribution equals a plain sort-everything implementation of top-k and top-p; the pruned draw
 * equals the exhaustive Gumbel argmax it stands for.
 */
class TokenSamplerTest {

    /**
     * Distributions of every shape a draw meets: a vocabulary-sized softmax at low and high temperature, a nucleus
     * (mostly zeros), near-uniform, a point mass, subnormal and tied probabilities; many positions each.
     */
    @org.junit.jupiter.api.Test
    void drawEqualsTheExhaustiveArgmax() {
        java.util.Random random = new java.util.Random(11);
        int draws = 0;
        for (int shape = 0; shape < 7; shape++) {
            for (int trial = 0; trial < 6; trial++) {
                double[] p = distribution(shape, trial % 2 == 0 ? 49152 : 300, random);
                long seed = random.nextLong();
                TokenSampler sampler = new TokenSampler(new Sampling(1, 1, 0, seed));
                Noise noise = new Noise(seed);
                for (int position = 0; position < 40; position++) {
                    for (Noise.Stream stream : new Noise.Stream[] {Noise.Stream.TOKEN, Noise.Stream.RESIDUAL}) {
                        assertEquals(exhaustive(p, noise, position, stream), sampler.draw(p, position, stream),
                                "shape " + shape + ", trial " + trial + ", position " + position);
                        draws++;
                    }
                }
            }
        }
        assertEquals(7 * 6 * 40 * 2, draws);
    }

    static double[] distribution(int shape, int vocab, java.util.Random random) {
        double[] w = new double[vocab];
        for (int t = 0; t < vocab; t++) {
            w[t] = switch (shape) {
                case 0 -> Math.exp(random.nextGaussian() * 2.5 / 0.8);   // T = 0.8
                case 1 -> Math.exp(random.nextGaussian() * 2.5 / 0.2);   // T = 0.2: peaked
                case 2 -> random.nextInt(40) == 0 ? random.nextDouble() : 0; // a nucleus
                case 3 -> 1 + 1e-3 * random.nextDouble();                 // near-uniform
                case 4 -> t == vocab / 3 ? 1 : 0;                         // a point mass
                case 5 -> t % 7 == 0 ? 1 : 0;                             // subnormal tails, set below
                default -> 1 + random.nextInt(3);                         // ties everywhere
            };
        }
        double sum = Arrays.stream(w).sum();
        for (int t = 0; t < vocab; t++) {
            w[t] /= sum;
            if (shape == 5 && w[t] == 0) {
                w[t] = Double.MIN_VALUE * (1 + random.nextInt(1000));
            }
        }
        return w;
    }

    /** The definition: the largest log p + Gumbel over every token with p > 0, the lower id on a tie. */
    static int exhaustive(double[] p, Noise noise, int position, Noise.Stream stream) {
        int best = -1;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (int x = 0; x < p.length; x++) {
            if (p[x] > 0) {
                double v = Math.log(p[x]) + noise.gumbel(position, stream, x);
                if (best < 0 || v > bestValue) {
                    best = x;
                    bestValue = v;
                }
            }
        }
        return best;
    }

    @ParameterizedTest(name = "T {0}, top-p {1}, top-k {2}")
    @CsvSource({"1.0, 0.9, 0", "0.7, 0.5, 0", "1.0, 0.999999, 0", "3.0, 0.999999, 0", "1.0, 1.0, 5", "0.8, 0.95, 40",
        "2.0, 1.0, 20000"})
    void nucleusMatchesAFullSort(double temperature, double topP, int topK) {
        try (Model m = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
             Batch s = m.newBatch(OffHeapMemory.root(), new Batch.Limits(1, 32, 32, 1))) {
            int[] prompt = m.tokenizer().encode("def parse(line):\n    parts = line.split(");
            Logits logits = s.prefill(0, prompt, 0, prompt.length, 32);
            double[] got = new TokenSampler(new Sampling(temperature, topP, topK, 0)).distribution(logits, 0);
            double[] want = naive(logits.row(0), temperature, topP, topK);
            for (int t = 0; t < want.length; t++) {
                assertEquals(want[t], got[t], 1e-12, "token " + t);
            }
        }
    }

    static double[] naive(float[] logits, double temperature, double topP, int topK) {
        int v = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[v];
        double sum = 0;
        for (int t = 0; t < v; t++) {
            p[t] = Math.exp((logits[t] - max) / temperature);
            sum += p[t];
        }
        for (int t = 0; t < v; t++) {
            p[t] /= sum;
        }
        Integer[] order = new Integer[v];
        for (int t = 0; t < v; t++) {
            order[t] = t;
        }
        Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int limit = topK > 0 ? Math.min(topK, v) : v;
        double acc = 0;
        int keep = 0;
        while (keep < limit) {
            acc += p[order[keep++]];
            if (acc >= topP) {
                break;
            }
        }
        double[] out = new double[v];
        double kept = 0;
        for (int i = 0; i < keep; i++) {
            kept += p[order[i]];
        }
        for (int i = 0; i < keep; i++) {
            out[order[i]] = p[order[i]] / kept;
        }
        return out;
    }
}
