package dev.starspec.engine.runtime;

import dev.starspec.engine.checkpoint.ModelConfig;
import java.nio.LongBuffer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;

/**
 * One sequence being decoded by one model: its KV cache, the input tensors of its next pass and its logits,
 * all in memory of its own child allocator. Closing the sequence returns every byte. Not thread-safe: one
 * generation drives it.
 */
public final class Sequence implements AutoCloseable {

    private final Model model;
    private final BufferAllocator allocator;
    private final int maxStepTokens;
    private KvCache cache;
    private ArrowBuf idsBuf;
    private ArrowBuf positionsBuf;
    private ArrowBuf maskBuf;
    private ArrowBuf fromBuf;
    private ArrowBuf logitsBuf;
    private ArrowBuf bestBuf;
    private ArrowBuf bestProbabilityBuf;
    private LongBuffer ids;
    private LongBuffer positions;
    private LongBuffer mask;
    private LongBuffer from;
    private Logits logits;

    Sequence(Model model, BufferAllocator parent, int capacity, int maxStepTokens, int maxLogitRows) {
        ModelConfig c = model.config();
        if (capacity > c.nPositions()) {
            throw new IllegalArgumentException("capacity " + capacity + " exceeds the model's context of " + c.nPositions());
        }
        this.model = model;
        this.maxStepTokens = Math.min(maxStepTokens, capacity);
        long need = KvCache.bytes(c.nLayer(), c.kvDim(), capacity)
                + 8L * (2L * this.maxStepTokens + capacity + 1) + (4L * c.vocabSize() + 12) * maxLogitRows;
        this.allocator = parent.newChildAllocator("sequence", 0, Long.MAX_VALUE);
        try {
            cache = new KvCache(allocator, c.nLayer(), c.kvDim(), capacity);
            idsBuf = allocator.buffer(8L * this.maxStepTokens);
            positionsBuf = allocator.buffer(8L * this.maxStepTokens);
            maskBuf = allocator.buffer(8L * capacity);
            fromBuf = allocator.buffer(8);
            logitsBuf = allocator.buffer(4L * maxLogitRows * c.vocabSize());
            bestBuf = allocator.buffer(8L * maxLogitRows);
            bestProbabilityBuf = allocator.buffer(4L * maxLogitRows);
        } catch (OutOfMemoryException e) {
            close();
            throw new OffHeapLimitException(model.id() + ": a sequence of " + capacity + " positions needs "
                    + OffHeapMemory.mib(need) + " of KV cache and I/O buffers; the off-heap limit is "
                    + OffHeapMemory.mib(parent.getLimit()) + " with " + OffHeapMemory.mib(parent.getAllocatedMemory())
                    + " in use (raise --kv-cache-memory or shorten prompt + max new tokens)", e);
        }
        ids = OffHeapMemory.view(idsBuf).asLongBuffer();
        positions = OffHeapMemory.view(positionsBuf).asLongBuffer();
        mask = OffHeapMemory.view(maskBuf).asLongBuffer();
        from = OffHeapMemory.view(fromBuf).asLongBuffer();
        for (int i = 0; i < capacity; i++) {
            mask.put(i, 1L);
        }
        logits = new Logits(OffHeapMemory.view(logitsBuf).asFloatBuffer(), OffHeapMemory.view(bestBuf).asLongBuffer(),
                OffHeapMemory.view(bestProbabilityBuf).asFloatBuffer(), c.vocabSize());
    }

    public Model model() {
        return model;
    }

    public KvCache cache() {
        return cache;
    }

    public int length() {
        return cache.length();
    }

    public int capacity() {
        return cache.capacity();
    }

    /** Forgets every position at or after {@code length}: the O(1) rollback after rejected draft tokens. */
    public void rollback(int length) {
        cache.rollback(length);
    }

    /**
     * Appends {@code tokens[offset, offset + count)} and returns the logits of the new positions from
     * {@code logitsFrom} on (0-based among the new tokens). The returned view is valid until the next pass.
     */
    public Logits forward(int[] tokens, int offset, int count, int logitsFrom) {
        return forward(tokens, offset, count, logitsFrom, false);
    }

    /**
     * As {@link #forward(int[], int, int, int)}, optionally with each row's top probability
     * ({@link Logits#maxProbability}), which costs a softmax over the vocabulary per row.
     */
    public Logits forward(int[] tokens, int offset, int count, int logitsFrom, boolean withProbabilities) {
        if (count <= 0 || count > maxStepTokens) {
            throw new IllegalArgumentException("a pass takes 1.." + maxStepTokens + " tokens, got " + count);
        }
        if (logitsFrom < 0 || logitsFrom >= count || count - logitsFrom > logits.capacityRows()) {
            throw new IllegalArgumentException("logits from " + logitsFrom + " of " + count + " tokens: at most "
                    + logits.capacityRows() + " rows");
        }
        int past = cache.length();
        int vocab = model.config().vocabSize();
        for (int i = 0; i < count; i++) {
            int t = tokens[offset + i];
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("token id " + t + " outside the vocabulary of " + vocab);
            }
            ids.put(i, t);
            positions.put(i, past + i);
        }
        from.put(0, logitsFrom);
        model.forward(this, count, logitsFrom, withProbabilities);
        return logits;
    }

    /**
     * Runs a prompt (or any run of tokens) in chunks of the runtime's prefill size, so that a long prompt never
     * materialises a {@code heads x prompt x prompt} score tensor, and returns the logits of its last token.
     */
    public Logits prefill(int[] tokens, int offset, int count) {
        return prefill(tokens, offset, count, false);
    }

    public Logits prefill(int[] tokens, int offset, int count, boolean withProbabilities) {
        int chunk = Math.min(maxStepTokens, model.options().prefillChunk());
        Logits last = null;
        for (int done = 0; done < count; ) {
            int n = Math.min(chunk, count - done);
            last = forward(tokens, offset + done, n, n - 1, withProbabilities && done + n == count);
            done += n;
        }
        return last;
    }

    LongBuffer ids(int count) {
        return ids.duplicate().position(0).limit(count);
    }

    LongBuffer positions(int count) {
        return positions.duplicate().position(0).limit(count);
    }

    LongBuffer mask(int total) {
        return mask.duplicate().position(0).limit(total);
    }

    LongBuffer logitsFrom() {
        return from.duplicate().position(0).limit(1);
    }

    Logits logits() {
        return logits;
    }

    @Override
    public void close() {
        if (cache != null) {
            cache.close();
        }
        for (ArrowBuf b : new ArrowBuf[] {idsBuf, positionsBuf, maskBuf, fromBuf, logitsBuf, bestBuf, bestProbabilityBuf}) {
            if (b != null) {
                b.close();
            }
        }
        allocator.close();
    }
}
