package dev.starspec.engine.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.Batch;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;

/**
 * How much a quantized model departs from its float32 original on held-out text, at every position of every
 * text: the logits' relative error, how often the greedy next token agrees, and both perplexities.
 *
 * @param meanRelativeLogitError mean over positions of ||l_q - l_f|| / ||l_f||
 * @param greedyAgreement fraction of positions where argmax l_q == argmax l_f
 */
public record QualityReport(int texts, long positions, double meanRelativeLogitError, double greedyAgreement,
                            double referencePerplexity, double quantizedPerplexity) {

    public double perplexityIncrease() {
        return quantizedPerplexity / referencePerplexity - 1;
    }

    public static QualityReport measure(Model reference, Model quantized, List<String> texts, BufferAllocator memory) {
        int context = reference.config().nPositions();
        long positions = 0;
        long agree = 0;
        double relError = 0;
        double nllRef = 0;
        double nllQuant = 0;
        long predicted = 0;
        int used = 0;
        for (String text : texts) {
            int[] ids = reference.tokenizer().encode(text);
            if (ids.length > context) {
                ids = Arrays.copyOf(ids, context);
            }
            if (ids.length < 2) {
                continue;
            }
            used++;
            int n = ids.length;
            Batch.Limits whole = new Batch.Limits(1, n, n, n);
            try (Batch f = reference.newBatch(memory, whole); Batch q = quantized.newBatch(memory, whole)) {
                f.add(0, ids, 0, n, 0);
                q.add(0, ids, 0, n, 0);
                Logits lf = f.run(false);
                Logits lq = q.run(false);
                for (int t = 0; t < n; t++) {
                    float[] a = lf.row(t);
                    float[] b = lq.row(t);
                    double diff = 0;
                    double norm = 0;
                    for (int v = 0; v < a.length; v++) {
                        diff += (double) (a[v] - b[v]) * (a[v] - b[v]);
                        norm += (double) a[v] * a[v];
                    }
                    relError += Math.sqrt(diff / norm);
                    if (lf.argmax(t) == lq.argmax(t)) {
                        agree++;
                    }
                    if (t + 1 < n) {
                        nllRef += negativeLogLikelihood(a, ids[t + 1]);
                        nllQuant += negativeLogLikelihood(b, ids[t + 1]);
                        predicted++;
                    }
                    positions++;
                }
            }
        }
        if (positions == 0) {
            throw new IllegalArgumentException("no held-out text long enough to measure quality");
        }
        return new QualityReport(used, positions, relError / positions, (double) agree / positions,
                Math.exp(nllRef / predicted), Math.exp(nllQuant / predicted));
    }

    static double negativeLogLikelihood(float[] logits, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        return Math.log(sum) + max - logits[token];
    }

    public ObjectNode toJson(String heldOut) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("held_out", heldOut);
        n.put("texts", texts);
        n.put("positions", positions);
        n.put("mean_relative_logit_error", meanRelativeLogitError);
        n.put("greedy_agreement", greedyAgreement);
        n.put("perplexity_fp32", referencePerplexity);
        n.put("perplexity", quantizedPerplexity);
        n.put("perplexity_increase", perplexityIncrease());
        return n;
    }

    @Override
    public String toString() {
        return String.format("%d texts, %d positions: greedy agreement %.2f%%, mean relative logit error %.4f, "
                        + "perplexity %.3f vs fp32 %.3f (%+.2f%%)", texts, positions, 100 * greedyAgreement,
                meanRelativeLogitError, quantizedPerplexity, referencePerplexity, 100 * perplexityIncrease());
    }
}
