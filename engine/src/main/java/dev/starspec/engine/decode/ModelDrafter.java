package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.runtime.KvCache;
import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;

/**
 * {@link Draft.OfModel}: a smaller model proposes, one token per row per pass, all rows in the same passes. Its
 * batch mirrors the target's slots. Its cache is brought up to date lazily: the prompt comes in with the target's
 * prefill, and each proposal round first feeds every row the tokens the target added since (one or two).
 */
final class ModelDrafter implements Drafter {

    /** The most tokens a row catches up on in one round; a row further behind catches up before it drafts again. */
    static final int CATCH_UP = 16;

    private final Model model;
    private final BufferAllocator memory;
    private final DraftLength length;
    private final SpeculativeSampling sampling;
    private Batch batch;

    ModelDrafter(Model model, BufferAllocator memory, DraftLength length, SpeculativeSampling sampling) {
        this.model = model;
        this.memory = memory;
        this.length = length;
        this.sampling = sampling;
    }

    @Override
    public void reshape(int slots, int capacity) {
        int cap = Math.min(capacity, model.config().nPositions());
        int tokens = Math.max(model.options().prefillChunk(), slots * CATCH_UP);
        Batch.Limits limits = new Batch.Limits(slots, cap, tokens, slots);
        if (batch == null) {
            batch = model.newBatch(memory, limits);
        } else if (!batch.limits().equals(limits)) {
            batch.resize(limits);
        }
    }

    @Override
    public boolean fits(Prompt prompt) {
        // Drafting needs the whole text so far in the cache plus the proposals fed back.
        return prompt.length() < batch.cache().capacity();
    }

    @Override
    public void prefill(List<? extends Row<?>> rows, int[] counts) {
        boolean any = false;
        for (int i = 0; i < rows.size(); i++) {
            Row<?> r = rows.get(i);
            if (r.draftable) {
                batch.add(r.slot, r.text, r.prefilled, counts[i], counts[i]);
                any = true;
            }
        }
        if (any) {
            batch.run(false);
        }
    }

    @Override
    public int room(Row<?> row) {
        if (!row.draftable || behind(row) > CATCH_UP) {
            return 0;
        }
        // After catching up the cache holds the whole text; every proposal but the last is fed back.
        return Math.max(0, batch.cache().capacity() - row.length + 1);
    }

    @Override
    public int behind(Row<?> row) {
        return row.draftable ? row.length - batch.cache().length(row.slot) : 0;
    }

    @Override
    public void propose(List<? extends Row<?>> rows) {
        List<Row<?>> drafting = new ArrayList<>();
        for (Row<?> r : rows) {
            r.n = 0;
            if (r.k > 0) {
                drafting.add(r);
            }
        }
        if (drafting.isEmpty()) {
            return;
        }
        boolean confidence = length.pMin() > 0;
        KvCache cache = batch.cache();
        // Round 0: every row catches up (so none falls far behind), and the drafting ones get their first proposal.
        for (Row<?> r : rows) {
            if (r.draftable && r.length >= cache.capacity()) {
                r.draftable = false; // the text outgrew the draft's context: the target decodes this row plainly
            }
            int behind = behind(r);
            if (r.draftable && behind > 0) {
                int count = Math.min(behind, CATCH_UP);
                r.logitsRow = batch.add(r.slot, r.text, cache.length(r.slot), count, r.k > 0 ? count - 1 : count);
                r.draftPasses++;
            }
        }
        Logits logits = batch.run(confidence);
        for (int i = 0; !drafting.isEmpty(); i++) {
            List<Row<?>> next = new ArrayList<>();
            for (Row<?> r : drafting) {
                int token = choose(r, logits, i);
                if (token < 0) {
                    continue;
                }
                r.window[1 + i] = token;
                r.n = i + 1;
                if (r.n < r.k) {
                    next.add(r);
                }
            }
            for (Row<?> r : next) {
                r.logitsRow = batch.add(r.slot, r.window, r.n, 1, 0);
                r.draftPasses++;
            }
            if (!next.isEmpty()) {
                logits = batch.run(confidence);
            }
            drafting = next;
        }
    }

    /** Proposal i of a row from its logits row, or -1 when the draft's confidence says stop (p-min). */
    private int choose(Row<?> r, Logits logits, int i) {
        int row = r.logitsRow;
        if (r.sampler.greedy()) {
            if (length.pMin() > 0 && i > 0 && logits.maxProbability(row) < length.pMin()) {
                return -1;
            }
            return logits.argmax(row);
        }
        double[] q = r.sampler.distribution(logits, row);
        // Coupled: the very noise the target samples this position with; rejection: the draft's own.
        int token = r.sampler.draw(q, r.position() + i,
                sampling == SpeculativeSampling.COUPLED ? Noise.Stream.TOKEN : Noise.Stream.DRAFT);
        if (length.pMin() > 0 && i > 0 && q[token] < length.pMin()) {
            return -1;
        }
        r.q[i] = q;
        return token;
    }

    @Override
    public void keep(Row<?> row) {
        if (row.draftable && batch.cache().length(row.slot) > row.length - 1) {
            batch.cache().rollback(row.slot, row.length - 1);
        }
    }

    /** The draft model's cache (for tests). */
    KvCache cache() {
        return batch.cache();
    }

    @Override
    public void clear() {
        if (batch != null) {
            batch.clear();
        }
    }

    @Override
    public void release(int slot) {
        batch.cache().rollback(slot, 0);
    }

    @Override
    public void close() {
        if (batch != null) {
            batch.close();
            batch = null;
        }
    }
}
