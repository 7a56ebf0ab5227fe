package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.runtime.KvCache;
import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.OffHeapLimitException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * One run of a {@link Decoder} over a stream of submissions: continuous batching with speculation. Up to the
 * batch size of rows decode together; a finished row leaves at once and the next submission takes its slot;
 * outcomes come out as rows finish (not in submission order). Reading the iterator drives the decoding; closing
 * it (or reading it to the end) returns all its memory.
 *
 * <p>A step: admit rows into free slots while memory allows; take in one chunk of prompt for a contiguous run of
 * rows still reading theirs (so running rows are stalled by at most one chunk); then, for every decoding row,
 * draft (batched across rows), verify every row's window in one target pass, keep per row what the target agrees
 * with and roll the rest back.
 */
public final class Decoding<T> implements Iterator<Outcome<T>>, AutoCloseable {

    /** Capacity grows in steps of this many positions, so that rows of similar lengths share one shape. */
    static final int CAPACITY_STEP = 64;

    private final Decoder decoder;
    private final Iterator<Submission<T>> input;
    private final ArrayDeque<Outcome<T>> finished = new ArrayDeque<>();
    private final DraftPlanner planner;
    private final Drafter drafter;
    private final SpeculativeSampling sampling;
    private final LookupDrafter spareGuesser;
    private final List<Row<T>> rows = new ArrayList<>();
    private Batch target;
    private Row<T>[] slots;
    /** Read and tokenized, waiting for cache memory. */
    private Waiting<T> waiting;
    private StepObserver observer = StepObserver.NONE;
    private long batchAccepted;
    private long batchTested;
    /** The most rows that were decoding at once: at most the batch size, less when the input or the memory ran short. */
    private int mostRows;
    private boolean closed;

    private record Waiting<T>(Submission<T> submission, Prompt prompt, long tokenizeNanos) {}

    /**
     * Sees every row right after its verification step, before a finished row leaves: tests check the caches there.
     *
     * @param draft the draft model's cache, or null without one
     * @param endedInRun the generation ended on an accepted proposal (a stop sequence, EOS or max new tokens inside
     *     the accepted run) rather than on a token of the target's own
     */
    interface StepObserver {
        StepObserver NONE = (row, target, draft, endedInRun) -> { };

        void afterStep(Row<?> row, KvCache target, KvCache draft, boolean endedInRun);
    }

    void observe(StepObserver o) {
        this.observer = o;
    }

    @SuppressWarnings("unchecked")
    Decoding(Decoder decoder, Iterator<Submission<T>> input, DraftPlanner planner, Drafter drafter) {
        this.decoder = decoder;
        this.input = input;
        this.planner = planner;
        this.drafter = drafter;
        this.sampling = decoder.options().speculativeSampling();
        this.spareGuesser = new LookupDrafter(decoder.draft() instanceof Draft.PromptLookup p ? p.maxNgram() : 3);
        this.slots = (Row<T>[]) new Row<?>[decoder.batchSize()];
    }

    @Override
    public boolean hasNext() {
        while (finished.isEmpty() && !closed && step()) {
            // decode until some row finishes
        }
        if (finished.isEmpty()) {
            close();
        }
        return !finished.isEmpty();
    }

    @Override
    public Outcome<T> next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return finished.poll();
    }

    /** One step of the loop; false when nothing is left to decode. */
    private boolean step() {
        admit();
        if (rows.isEmpty()) {
            return false;
        }
        List<Row<T>> inPass = new ArrayList<>();
        try {
            prefill(inPass);
            inPass.clear();
            decode(inPass);
        } catch (RuntimeException e) {
            // A pass failed: its rows fail with it, the others go on.
            target.clear();
            if (drafter != null) {
                drafter.clear();
            }
            for (Row<T> r : new ArrayList<>(inPass)) {
                fail(r, e);
            }
        }
        return true;
    }

    // ---- admission -------------------------------------------------------------------------------------------

    /** Fills free slots from the input while the cache memory allows; a row that alone cannot fit fails. */
    private void admit() {
        while (rows.size() < slots.length) {
            if (waiting == null) {
                if (!input.hasNext()) {
                    return;
                }
                Submission<T> s = input.next();
                long start = System.nanoTime();
                try {
                    Prompt prompt = Prompt.of(decoder.target(), s.request(), decoder.options().contextPolicy());
                    waiting = new Waiting<>(s, prompt, System.nanoTime() - start);
                } catch (RuntimeException e) {
                    finished.add(new Outcome<>(s.key(), null, e, (start - s.readNanos()) / 1e6,
                            (System.nanoTime() - start) / 1e6));
                    continue;
                }
            }
            int slot = freeSlot();
            try {
                reshape(slot + 1, waiting.prompt().capacity());
            } catch (OffHeapLimitException e) {
                if (!rows.isEmpty()) {
                    return; // wait: finishing rows give their memory back
                }
                Waiting<T> w = waiting;
                waiting = null;
                finished.add(new Outcome<>(w.submission().key(), null, e, 0, w.tokenizeNanos() / 1e6));
                continue;
            }
            start(slot, waiting);
            waiting = null;
        }
    }

    private int freeSlot() {
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] == null) {
                return s;
            }
        }
        throw new IllegalStateException("no free slot");
    }

    /**
     * Makes the batch hold at least {@code usedSlots} rows of {@code need} positions. It takes the full batch size
     * when memory allows, else just enough slots; capacity only grows, in steps, up to the model's context.
     */
    private void reshape(int usedSlots, int need) {
        if (rows.isEmpty() && target != null) {
            // Nothing to keep: give the old shape back first, so that a larger one needs only its own memory.
            releaseBatches();
        }
        int context = decoder.target().config().nPositions();
        int capacity = Math.min(context, roundUp(Math.max(need, target == null ? 0 : target.cache().capacity())));
        int current = target == null ? 0 : target.cache().slots();
        if (target != null && usedSlots <= current && capacity <= target.cache().capacity()) {
            return;
        }
        OffHeapLimitException refused = null;
        for (int slotCount : new int[] {Math.max(current, slots.length), Math.max(current, usedSlots)}) {
            try {
                Batch.Limits limits = decoder.targetLimits(slotCount, capacity);
                if (target == null) {
                    target = decoder.target().newBatch(decoder.memory(), limits);
                } else {
                    target.resize(limits);
                }
                if (drafter != null) {
                    drafter.reshape(slotCount, capacity);
                }
                return;
            } catch (OffHeapLimitException e) {
                refused = e;
            }
        }
        throw refused;
    }

    private static int roundUp(int n) {
        return (n + CAPACITY_STEP - 1) / CAPACITY_STEP * CAPACITY_STEP;
    }

    private void start(int slot, Waiting<T> w) {
        long now = System.nanoTime();
        long admitted = now - w.tokenizeNanos(); // the clock includes tokenization, the queue does not
        GenerationRequest req = w.submission().request();
        Prompt prompt = w.prompt();
        Completion out = new Completion(decoder.target().tokenizer(), decoder.target().config().eosTokenId(),
                prompt.maxNewTokens(), req.stop());
        Row<T> r = new Row<>(w.submission(), admitted, slot, prompt, out, new TokenSampler(req.sampling()),
                new LatencyClock(admitted), decoder.options().draftLength().max());
        r.draftable = drafter != null && drafter.fits(prompt);
        slots[slot] = r;
        rows.add(r);
        mostRows = Math.max(mostRows, rows.size());
    }

    // ---- prefill ---------------------------------------------------------------------------------------------

    /**
     * Takes in one chunk of prompt for the lowest run of consecutive slots still reading their prompts: one pass
     * of at most a prefill chunk of padded tokens. Rows that finish their prompt get their first token.
     */
    private void prefill(List<Row<T>> inPass) {
        int first = -1;
        for (int s = 0; s < slots.length && first < 0; s++) {
            if (slots[s] != null && slots[s].phase == Row.Phase.PREFILL) {
                first = s;
            }
        }
        if (first < 0) {
            return;
        }
        int budget = decoder.target().options().prefillChunk();
        int width = Math.min(budget, slots[first].prompt.length() - slots[first].prefilled);
        for (int s = first; s < slots.length && slots[s] != null && slots[s].phase == Row.Phase.PREFILL
                && inPass.size() < Math.max(1, budget / width); s++) {
            inPass.add(slots[s]);
        }
        int[] counts = new int[inPass.size()];
        for (int i = 0; i < counts.length; i++) {
            Row<T> r = inPass.get(i);
            counts[i] = Math.min(width, r.prompt.length() - r.prefilled);
            boolean last = r.prefilled + counts[i] == r.prompt.length();
            r.logitsRow = target.add(r.slot, r.text, r.prefilled, counts[i], last ? counts[i] - 1 : counts[i]);
        }
        if (drafter != null) {
            // A row the draft would never be asked about (the batch is too full for drafting to pay) skips it for good.
            boolean pays = planner.draftingPays(rows.size(), batchAcceptance());
            for (Row<T> r : inPass) {
                r.draftable &= pays || r.prefilled > 0;
            }
            drafter.prefill(inPass, counts);
        }
        Logits logits = target.run(false);
        for (int i = 0; i < counts.length; i++) {
            Row<T> r = inPass.get(i);
            r.prefilled += counts[i];
            if (r.prefilled == r.prompt.length()) {
                r.phase = Row.Phase.DECODE;
                boolean done = r.emit(r.sampler.next(logits, r.logitsRow, 0));
                r.clock.tokensOut();
                if (done) {
                    finish(r);
                }
            }
        }
    }

    // ---- decode ----------------------------------------------------------------------------------------------

    /** One speculative step for every decoding row: plan, draft, verify all windows in one target pass. */
    private void decode(List<Row<T>> inPass) {
        for (Row<T> r : rows) {
            if (r.phase == Row.Phase.DECODE) {
                r.k = 0;
                r.n = 0;
                r.spareGuess = false;
                inPass.add(r);
            }
        }
        if (inPass.isEmpty()) {
            return;
        }
        if (drafter != null) {
            planner.plan(inPass, drafter, batchAcceptance());
            drafter.propose(inPass);
        }
        guessInSpareSlot(inPass);
        for (Row<T> r : inPass) {
            // Invariant: the target's cache holds every token of the row's text but the newest.
            r.window[0] = r.newest();
            r.logitsRow = target.add(r.slot, r.window, 0, r.n + 1, 0); // row i: the target's next token after window[0..i]
        }
        Logits logits = target.run(false);
        for (Row<T> r : new ArrayList<>(inPass)) {
            verify(r, logits);
        }
    }

    /**
     * A pass of a model that computes tokens in pairs is kept even; when the rows' windows add up to an odd count, the
     * slot that would hold a spare token holds a prompt-lookup guess for a row without proposals instead: verified
     * for free. Only where the guess cannot change what is sampled (greedy, or coupled sampling).
     */
    private void guessInSpareSlot(List<Row<T>> inPass) {
        if (!target.model().pairsTokens()) {
            return;
        }
        int tokens = 0;
        for (Row<T> r : inPass) {
            tokens += r.n + 1;
        }
        if (tokens % 2 == 0) {
            return;
        }
        for (Row<T> r : inPass) {
            boolean exact = r.sampler.greedy() || sampling == SpeculativeSampling.COUPLED;
            if (r.n == 0 && exact && r.out.remaining() > 1 && spareGuesser.lookup(r.text, r.length, 1, r.window, 1) == 1) {
                r.n = 1;
                r.q[0] = null;
                r.spareGuess = true;
                return;
            }
        }
    }

    /**
     * Keeps the longest run of proposals the target agrees with, plus one token of the target's own (the
     * correction of the first disagreement, or the bonus after a fully accepted run), then rolls both caches back
     * to the kept text. Greedy and coupled sampling ask "is this the token the target itself picks here?", so the
     * output is exactly the target's own; rejection sampling keeps x with probability min(1, p(x) / q(x)).
     */
    private void verify(Row<T> r, Logits logits) {
        int kept = 0;
        boolean done = false;
        boolean rejected = false;
        boolean endedInRun = false;
        if (r.sampler.greedy() || sampling == SpeculativeSampling.COUPLED) {
            while (!done) {
                int own = r.sampler.next(logits, r.logitsRow + kept, r.position());
                boolean agrees = kept < r.n && own == r.window[kept + 1];
                done = r.emit(own); // a stop sequence or EOS may land inside the accepted run
                if (!agrees) {
                    rejected = kept < r.n;
                    break;
                }
                kept++;
                endedInRun = done;
            }
        } else {
            for (; kept < r.n && !done && !rejected; ) {
                int x = r.window[kept + 1];
                double[] p = r.sampler.distribution(logits, r.logitsRow + kept);
                double qx = r.q[kept] == null ? 1 : r.q[kept][x];
                if (r.sampler.uniform(r.position(), Noise.Stream.ACCEPT) < Math.min(1, p[x] / qx)) {
                    done = r.emit(x);
                    kept++;
                    endedInRun = done;
                } else {
                    done = r.emit(residual(r, p, r.q[kept], x));
                    rejected = true;
                }
            }
            if (!done && !rejected) {
                done = r.emit(r.sampler.next(logits, r.logitsRow + r.n, r.position())); // the bonus token
            }
        }
        r.clock.tokensOut();
        r.targetPasses++;
        if (r.n > 0 && !r.spareGuess) {
            r.steps++;
            r.proposed += r.n;
            r.accepted += kept;
            int tested = kept + (rejected ? 1 : 0);
            r.tested += tested;
            batchAccepted += kept;
            batchTested += tested;
        }
        // Keep window[0..kept] in the target's cache; the newest token is fed by the next pass.
        KvCache cache = target.cache();
        cache.rollback(r.slot, cache.length(r.slot) - r.n + kept);
        if (drafter != null) {
            drafter.keep(r);
        }
        observer.afterStep(r, cache, drafter instanceof ModelDrafter m ? m.cache() : null, endedInRun);
        if (done) {
            finish(r);
        }
    }

    /** Acceptance over the run so far, from an even prior. */
    private double batchAcceptance() {
        return (batchAccepted + 1.0) / (batchTested + 2.0);
    }

    /** A draw from norm(max(0, p - q)), q being a point mass on x for a certain proposal. */
    private static int residual(Row<?> r, double[] p, double[] q, int x) {
        double[] residual = new double[p.length];
        double sum = 0;
        for (int t = 0; t < p.length; t++) {
            double qt = q == null ? (t == x ? 1 : 0) : q[t];
            residual[t] = Math.max(0, p[t] - qt);
            sum += residual[t];
        }
        if (sum <= 0) {
            return r.sampler.draw(p, r.position(), Noise.Stream.RESIDUAL); // p == q: rejection had probability zero
        }
        for (int t = 0; t < residual.length; t++) {
            residual[t] /= sum;
        }
        return r.sampler.draw(residual, r.position(), Noise.Stream.RESIDUAL);
    }

    // ---- leaving -----------------------------------------------------------------------------------------------

    private void finish(Row<T> r) {
        release(r);
        Generation g = r.generation(drafter != null);
        finished.add(new Outcome<>(r.submission.key(), g, null, r.queueMs, g.totalMs()));
    }

    private void fail(Row<T> r, RuntimeException e) {
        if (slots[r.slot] != r) {
            return; // already finished in this step
        }
        release(r);
        finished.add(new Outcome<>(r.submission.key(), null, e, r.queueMs, (System.nanoTime() - r.admittedNanos) / 1e6));
    }

    private void release(Row<T> r) {
        slots[r.slot] = null;
        rows.remove(r);
        target.cache().rollback(r.slot, 0);
        if (drafter != null) {
            drafter.release(r.slot);
        }
    }

    /** The most rows decoded at once so far (a partition smaller than the batch size never fills it). */
    public int mostRows() {
        return mostRows;
    }

    /** Returns every byte of the run's caches; rows still decoding are dropped. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        releaseBatches();
    }

    private void releaseBatches() {
        if (drafter != null) {
            drafter.close();
        }
        if (target != null) {
            target.close();
            target = null;
        }
    }
}
