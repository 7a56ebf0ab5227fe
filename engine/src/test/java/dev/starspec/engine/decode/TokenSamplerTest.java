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

/** The filtered distribution equals a plain sort-everything implementation of top-k and top-p. */
class TokenSamplerTest {

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
