package dev.starspec.engine.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.checkpoint.WeightSource;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.Signature;
import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.RuntimeOptions;
import java.nio.file.Path;
import java.util.function.Consumer;
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

    /** Both models loaded whole, each text in one pass. */
    public static QualityReport measure(Model reference, Model quantized, List<String> texts, BufferAllocator memory) {
        Figures f = new Figures(reference.config().vocabSize());
        for (int[] ids : BlockStream.sequences(texts, reference.tokenizer()::encode, reference.config().nPositions(), 2)) {
            int n = ids.length;
            Batch.Limits whole = new Batch.Limits(1, n, n, n);
            try (Batch fb = reference.newBatch(memory, whole); Batch qb = quantized.newBatch(memory, whole)) {
                fb.add(0, ids, 0, n, 0);
                qb.add(0, ids, 0, n, 0);
                Logits lf = fb.run(false);
                Logits lq = qb.run(false);
                f.text();
                for (int t = 0; t < n; t++) {
                    f.add(lf.row(t), lq.row(t), t + 1 < n ? ids[t + 1] : -1);
                }
            }
        }
        return f.report();
    }

    /**
     * Neither model loaded whole: the texts pass through both block by block, side by side (see
     * {@link BlockStream}), in about two blocks' float32 weights. {@code maxPositions} takes texts in order
     * until that many positions are covered (0: all), to keep a large model's report affordable.
     */
    public static QualityReport measure(WeightSource weights, GptBigCodeGraph.Options reference,
                                        GptBigCodeGraph.Options quantized, List<int[]> sequences, int maxPositions,
                                        Path work, RuntimeOptions runtime, BufferAllocator memory,
                                        Consumer<String> log) {
        ModelConfig c = weights.config();
        List<int[]> used = new java.util.ArrayList<>();
        long covered = 0;
        for (int[] ids : sequences) {
            if (maxPositions > 0 && covered >= maxPositions) {
                break;
            }
            used.add(ids);
            covered += ids.length;
        }
        Figures f = new Figures(c.vocabSize());
        long start = System.nanoTime();
        try (BlockStream ref = new BlockStream(c, used, memory); BlockStream quant = new BlockStream(c, used, memory)) {
            for (int layer = 0; layer < c.nLayer(); layer++) {
                long blockStart = System.nanoTime();
                boolean last = layer == c.nLayer() - 1;
                List<String> outputs = last ? List.of(Signature.LOGITS) : List.of();
                try (BlockStream.Block rb = BlockStream.load(weights, reference, layer, work, runtime, memory);
                     BlockStream.Block qb = BlockStream.load(weights, quantized, layer, work, runtime, memory)) {
                    for (int i = 0; i < used.size(); i++) {
                        float[] lf = ref.step(rb, i, outputs, last).get(Signature.LOGITS);
                        float[] lq = quant.step(qb, i, outputs, last).get(Signature.LOGITS);
                        if (last) {
                            int[] ids = used.get(i);
                            f.text();
                            int v = c.vocabSize();
                            for (int t = 0; t < ids.length; t++) {
                                f.add(java.util.Arrays.copyOfRange(lf, t * v, (t + 1) * v),
                                        java.util.Arrays.copyOfRange(lq, t * v, (t + 1) * v),
                                        t + 1 < ids.length ? ids[t + 1] : -1);
                            }
                        }
                    }
                }
                log.accept(String.format("quality: block %d/%d in %.1f s", layer + 1, c.nLayer(),
                        (System.nanoTime() - blockStart) / 1e9));
            }
        }
        log.accept(String.format("quality: %d texts, %d positions in %.1f s", used.size(), covered,
                (System.nanoTime() - start) / 1e9));
        return f.report();
    }

    /** The running sums behind the report, position by position. */
    private static final class Figures {
        final int vocab;
        int texts;
        long positions;
        long agree;
        double relError;
        double nllRef;
        double nllQuant;
        long predicted;

        Figures(int vocab) {
            this.vocab = vocab;
        }

        void text() {
            texts++;
        }

        /** One position: both models' logits, and the token that follows it (-1 at a text's end). */
        void add(float[] a, float[] b, int next) {
            double diff = 0;
            double norm = 0;
            int bestA = 0;
            int bestB = 0;
            for (int v = 0; v < vocab; v++) {
                diff += (double) (a[v] - b[v]) * (a[v] - b[v]);
                norm += (double) a[v] * a[v];
                if (a[v] > a[bestA]) {
                    bestA = v;
                }
                if (b[v] > b[bestB]) {
                    bestB = v;
                }
            }
            relError += Math.sqrt(diff / norm);
            if (bestA == bestB) {
                agree++;
            }
            if (next >= 0) {
                nllRef += negativeLogLikelihood(a, next);
                nllQuant += negativeLogLikelihood(b, next);
                predicted++;
            }
            positions++;
        }

        QualityReport report() {
            if (positions == 0) {
                throw new IllegalArgumentException("no held-out text long enough to measure quality");
            }
            return new QualityReport(texts, positions, relError / positions, (double) agree / positions,
                    Math.exp(nllRef / predicted), Math.exp(nllQuant / predicted));
        }
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
