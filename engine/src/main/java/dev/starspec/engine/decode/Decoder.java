package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.runtime.CostCurve;
import dev.starspec.engine.runtime.KvCache;
import dev.starspec.engine.runtime.Model;
import java.util.Iterator;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Turns prompts into completions: a target model, optionally a draft, and how to batch and speculate. Immutable
 * and thread-safe; every {@link #decode} runs its own batch in memory of its own.
 *
 * <p>Greedy output is token for token the target's own greedy output, whatever the draft, the draft lengths or
 * the rows sharing a pass: the contract, which tests hold. With sampling, a row's output depends only on its
 * request (seed included); with {@link SpeculativeSampling#COUPLED} it is also independent of the draft.
 */
public final class Decoder {

    /** Acceptance assumed when choosing the batch size before any row has been drafted for. */
    static final double ASSUMED_ACCEPTANCE = 0.6;

    private final Model target;
    private final Draft draft;
    private final DecodeOptions options;
    private final BufferAllocator memory;
    private final CostCurve targetCost;
    private final CostCurve draftCost;
    private final int batchSize;

    private Decoder(Model target, Draft draft, DecodeOptions options, BufferAllocator memory) {
        if (draft instanceof Draft.OfModel m) {
            requireSameTokens(target, m.model());
        }
        this.target = target;
        this.draft = draft;
        this.options = options;
        this.memory = memory;
        boolean speculating = !(draft instanceof Draft.None);
        // Pass costs are measured only where a choice depends on them.
        boolean weigh = options.batchSize() == DecodeOptions.AUTO_BATCH || speculating && options.draftLength().adaptive();
        this.targetCost = weigh ? target.costCurve() : null;
        this.draftCost = !weigh ? null : draft instanceof Draft.OfModel m ? m.model().costCurve() : CostCurve.FREE;
        this.batchSize = options.batchSize() != DecodeOptions.AUTO_BATCH ? options.batchSize() : autoBatchSize();
    }

    /**
     * The one place a decoder is assembled.
     *
     * @param memory where batches take their KV caches and pass buffers; its limit bounds them all
     */
    public static Decoder create(Model target, Draft draft, DecodeOptions options, BufferAllocator memory) {
        return new Decoder(target, draft, options, memory);
    }

    /** Draft token ids mean something to the target only if both use the same vocabulary. */
    static void requireSameTokens(Model target, Model draft) {
        String t = target.artifact().manifest().tokenizerFingerprint();
        String d = draft.artifact().manifest().tokenizerFingerprint();
        if (!t.equals(d) || target.config().vocabSize() != draft.config().vocabSize()) {
            throw new IllegalArgumentException("draft " + draft.id() + " (" + draft.artifact().dir() + ") does not share "
                    + "the tokenizer of target " + target.id() + " (vocabulary " + draft.config().vocabSize() + " vs "
                    + target.config().vocabSize() + ", tokenizer fingerprint " + d.substring(0, 12) + " vs "
                    + t.substring(0, 12) + "): speculative decoding needs identical token ids");
        }
    }

    /**
     * Decodes the submissions, up to {@link #batchSize()} at once, reading them as slots free up. Outcomes come as
     * rows finish; a row that fails becomes an outcome with its error and the others go on.
     */
    public <T> Decoding<T> decode(Iterator<Submission<T>> submissions) {
        Drafter drafter = null;
        if (draft instanceof Draft.PromptLookup lookup) {
            drafter = new LookupDrafter(lookup.maxNgram());
        } else if (draft instanceof Draft.OfModel m) {
            drafter = new ModelDrafter(m.model(), memory, options.draftLength(), options.speculativeSampling());
        }
        return new Decoding<>(this, submissions, new DraftPlanner(options.draftLength(), targetCost, draftCost), drafter);
    }

    /** One request on its own; its error, if any, is thrown. */
    public Generation generate(GenerationRequest request) {
        try (Decoding<Void> d = decode(List.of(Submission.<Void>now(null, request)).iterator())) {
            Outcome<Void> o = d.next();
            if (o.failed()) {
                throw o.error();
            }
            return o.generation();
        }
    }

    /**
     * The automatic batch size: the smallest number of rows whose predicted tokens per second come within 5% of
     * the best over 1..{@value DecodeOptions#MAX_AUTO_BATCH} rows, each row speculating as the planner would at
     * an acceptance of {@value #ASSUMED_ACCEPTANCE}; fewer if the cache memory could not hold that many rows of
     * a thousand positions.
     */
    private int autoBatchSize() {
        double[] rate = new double[DecodeOptions.MAX_AUTO_BATCH + 1];
        double best = 0;
        for (int b = 1; b <= DecodeOptions.MAX_AUTO_BATCH; b++) {
            rate[b] = predictedRate(b);
            best = Math.max(best, rate[b]);
        }
        int chosen = 1;
        while (rate[chosen] < 0.95 * best) {
            chosen++;
        }
        int positions = Math.min(1024, target.config().nPositions());
        long perRow = KvCache.bytes(target.config(), 1, positions)
                + (draft instanceof Draft.OfModel m ? KvCache.bytes(m.model().config(), 1,
                        Math.min(positions, m.model().config().nPositions())) : 0);
        long fit = Math.max(1, memory.getLimit() / 2 / Math.max(1, perRow));
        return (int) Math.max(1, Math.min(chosen, fit));
    }

    /** Tokens per millisecond of {@code b} rows at the assumed acceptance, with the best common draft length. */
    double predictedRate(int b) {
        DraftPlanner planner = new DraftPlanner(options.draftLength(), targetCost, draftCost);
        int maxK = draft instanceof Draft.None ? 0 : options.draftLength().max();
        double best = 0;
        for (int k = 0; k <= maxK; k++) {
            if (k > 0 && !options.draftLength().adaptive() && k != maxK) {
                continue;
            }
            int[] ks = new int[b];
            double[] a = new double[b];
            java.util.Arrays.fill(ks, k);
            java.util.Arrays.fill(a, ASSUMED_ACCEPTANCE);
            best = Math.max(best, planner.rate(ks, a, draft instanceof Draft.OfModel ? b : 0));
        }
        return best;
    }

    /** The target batch's shape for {@code slots} rows of {@code capacity} positions. */
    Batch.Limits targetLimits(int slots, int capacity) {
        // A row's window: its newest token, then its proposals (or, in a pass kept even, one free guess).
        int window = 1 + Math.max(draft instanceof Draft.None ? 0 : options.draftLength().max(), target.pairsTokens() ? 1 : 0);
        return new Batch.Limits(slots, capacity, Math.max(target.options().prefillChunk(), slots * window), slots * window);
    }

    public Model target() {
        return target;
    }

    BufferAllocator memory() {
        return memory;
    }

    public DecodeOptions options() {
        return options;
    }

    /** Rows decoding at once (the automatic choice resolved). */
    public int batchSize() {
        return batchSize;
    }

    /** What the output rows name as the target, e.g. {@code tiny-starcoder-target:int4}. */
    public String targetId() {
        return target.id();
    }

    /** What the output rows name as the draft, or null without speculation. */
    public String draftId() {
        return draft.id();
    }

    public Draft draft() {
        return draft;
    }

    /** The measured pass costs the decoder weighs (null when it has no choice to make). */
    public CostCurve targetCost() {
        return targetCost;
    }

    public CostCurve draftCost() {
        return draftCost;
    }
}
