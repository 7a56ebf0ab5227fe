package dev.starspec.engine.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.graph.Signature;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;

/**
 * Rows decoding together on one model: their {@link KvCache} and the inputs and outputs of one forward pass,
 * all in memory of the batch's own child allocator (closing the batch returns every byte). This binds the whole
 * model's {@link Signature} for decoding; {@link Segment} binds a span of it for conversion.
 *
 * <p>A pass is built row by row ({@link #add}: some slot's next tokens, after what its cache holds) and then
 * {@link #run}: every row's tokens go through the model together, each attending to its own cache, and each
 * row's new keys and values are appended to its slot. Rolling back is the cache's business
 * ({@link KvCache#rollback}). The rows of one pass may be any mix of prompt chunks, single decode tokens and
 * verification windows; the pass binds the contiguous range of slots they occupy, and attention runs over that
 * range padded to the longest window, so a pass should group rows of similar window sizes.
 *
 * <p>Not thread-safe: one decode loop drives it.
 */
public final class Batch implements AutoCloseable {

    private final Model model;
    private final ModelConfig config;
    private final BufferAllocator memory;
    private final KvCache cache;
    private final List<Entry> entries = new ArrayList<>();
    private Io io;
    private int tokens;
    private int rows;

    /** One row's part of the pass: its slot, where its tokens start in the pass, how many. */
    private record Entry(int slot, int first, int count) {}

    Batch(Model model, BufferAllocator parent, Limits limits) {
        this.model = model;
        this.config = model.config();
        if (limits.capacity() > config.nPositions()) {
            throw new IllegalArgumentException("capacity " + limits.capacity() + " exceeds the model's context of "
                    + config.nPositions());
        }
        this.memory = parent.newChildAllocator(model.id() + " batch", 0, Long.MAX_VALUE);
        try {
            this.cache = new KvCache(memory, model.id(), config, limits.slots(), limits.capacity());
            this.io = new Io(limits);
        } catch (RuntimeException e) {
            closeQuietly();
            throw e;
        }
    }

    /**
     * The shape of a batch.
     *
     * @param slots rows at once
     * @param capacity positions per row (prompt and generated tokens, but the last)
     * @param maxTokens the most tokens one pass takes, over all its rows
     * @param maxRows the most logits rows one pass returns
     */
    public record Limits(int slots, int capacity, int maxTokens, int maxRows) {
        public Limits {
            if (slots <= 0 || capacity <= 0 || maxTokens <= 0 || maxRows <= 0) {
                throw new IllegalArgumentException("batch limits must be positive: " + slots + " slots, " + capacity
                        + " positions, " + maxTokens + " tokens, " + maxRows + " logits rows a pass");
            }
            if (slots > Signature.ROWS) {
                throw new IllegalArgumentException("a batch holds at most " + Signature.ROWS + " rows, not " + slots);
            }
        }

        /** Off-heap bytes a batch of this shape takes: its KV cache and one pass's I/O. */
        public long bytes(ModelConfig c) {
            return KvCache.bytes(c, slots, capacity) + Io.bytes(c, this);
        }
    }

    public Model model() {
        return model;
    }

    public KvCache cache() {
        return cache;
    }

    public Limits limits() {
        return io.limits;
    }

    /**
     * Reshapes the batch (say, more slots or longer rows); rows in slots that remain keep their cache. On failure
     * (the off-heap limit) nothing changes.
     */
    public void resize(Limits limits) {
        if (limits.capacity() > config.nPositions()) {
            throw new IllegalArgumentException("capacity " + limits.capacity() + " exceeds the model's context of "
                    + config.nPositions());
        }
        if (!entries.isEmpty()) {
            throw new IllegalStateException("cannot resize a batch in the middle of building a pass");
        }
        Io fresh = new Io(limits);
        try {
            cache.resize(limits.slots(), limits.capacity());
        } catch (RuntimeException e) {
            fresh.close();
            throw e;
        }
        io.close();
        io = fresh;
    }

    /** Forgets the pass being built (after a failure part-way through building it). */
    public void clear() {
        entries.clear();
        tokens = 0;
        rows = 0;
    }

    /** Tokens added to the pass being built. */
    public int tokens() {
        return tokens;
    }

    /**
     * Adds {@code tokens[offset, offset + count)} of {@code slot} to the pass being built: they follow the slot's
     * cached positions. Logits are returned for the new tokens from {@code logitsFrom} on (0-based among them;
     * {@code count} asks for none).
     *
     * @return the index of this row's first logits row in the pass's {@link Logits}
     */
    public int add(int slot, int[] tokens, int offset, int count, int logitsFrom) {
        Limits l = io.limits;
        if (slot < 0 || slot >= l.slots()) {
            throw new IllegalArgumentException("slot " + slot + " of " + l.slots());
        }
        if (count <= 0 || this.tokens + count > l.maxTokens()) {
            throw new IllegalArgumentException("a pass takes 1.." + l.maxTokens() + " tokens; " + this.tokens
                    + " added, " + count + " more asked");
        }
        if (logitsFrom < 0 || logitsFrom > count || rows + count - logitsFrom > l.maxRows()) {
            throw new IllegalArgumentException("logits from " + logitsFrom + " of " + count + " tokens: at most "
                    + l.maxRows() + " rows a pass, " + rows + " taken");
        }
        int past = cache.length(slot);
        if (past + count > cache.capacity()) {
            throw new IllegalArgumentException("slot " + slot + " holds " + past + " positions; " + count
                    + " more exceed its capacity of " + cache.capacity());
        }
        for (Entry e : entries) {
            if (e.slot() == slot) {
                throw new IllegalArgumentException("slot " + slot + " is already in this pass");
            }
        }
        int vocab = config.vocabSize();
        for (int i = 0; i < count; i++) {
            int t = tokens[offset + i];
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("token id " + t + " outside the vocabulary of " + vocab);
            }
            io.ids.put(this.tokens + i, t);
            io.positions.put(this.tokens + i, past + i);
        }
        for (int i = logitsFrom; i < count; i++) {
            io.logitsIndex.put(rows + i - logitsFrom, this.tokens + i);
        }
        entries.add(new Entry(slot, this.tokens, count));
        int firstRow = rows;
        this.tokens += count;
        rows += count - logitsFrom;
        return firstRow;
    }

    /**
     * Runs the pass built so far and appends every row's new keys and values to its slot. ONNX Runtime reads the
     * caches in place and writes the logits and new keys/values into this batch's buffers: the only copy is of
     * the new tokens' keys and values into their slots. The returned view is valid until the next run.
     *
     * @param withProbabilities also compute each logits row's top probability ({@link Logits#maxProbability}),
     *     a softmax over the vocabulary per row
     */
    public Logits run(boolean withProbabilities) {
        if (entries.isEmpty()) {
            throw new IllegalStateException("an empty pass");
        }
        int lo = Integer.MAX_VALUE;
        int hi = 0;
        int window = 0;
        for (Entry e : entries) {
            lo = Math.min(lo, e.slot());
            hi = Math.max(hi, e.slot() + 1);
            window = Math.max(window, e.count());
        }
        int batch = hi - lo;
        for (int b = 0; b < batch; b++) {
            io.pastLength.put(b, cache.length(lo + b));
            for (int s = 0; s < window; s++) {
                io.windowIndex.put(b * window + s, 0); // padding: any real token will do
            }
        }
        for (int i = 0; i <= Signature.ROWS; i++) {
            io.rowTokens.put(i, i < entries.size() ? entries.get(i).count() : 0);
        }
        for (Entry e : entries) {
            int b = e.slot() - lo;
            for (int s = 0; s < e.count(); s++) {
                io.windowIndex.put(b * window + s, e.first() + s);
                io.tokenIndex.put(e.first() + s, (long) b * window + s);
            }
        }
        // Even counts of tokens and of logits rows where a quantized kernel computes them: a lone last row would
        // take its other path, and a row's numbers would depend on the parity of the pass it is in.
        int padded = tokens;
        if (padded % 2 == 1 && model.pairsTokens()) {
            io.ids.put(padded, 0);
            io.positions.put(padded, 0);
            io.tokenIndex.put(padded, 0);
            io.rowTokens.put(Signature.ROWS, 1);
            padded++;
        }
        int paddedRows = rows;
        if (paddedRows % 2 == 1 && model.quantizedHead()) {
            io.logitsIndex.put(paddedRows, io.logitsIndex.get(paddedRows - 1));
            paddedRows++;
        }
        try {
            model.run(this, lo, hi, window, padded, paddedRows, withProbabilities);
            for (Entry e : entries) {
                cache.advance(e.slot(), e.count());
            }
            io.logits.setRows(rows, withProbabilities);
            return io.logits;
        } finally {
            clear();
        }
    }

    /**
     * Runs {@code count} tokens of one row in passes of up to {@code chunk} tokens (so that a long prompt never
     * materialises a {@code heads x prompt x prompt} score tensor) and returns the logits of the last token.
     */
    public Logits prefill(int slot, int[] tokens, int offset, int count, int chunk) {
        Logits last = null;
        for (int done = 0; done < count; ) {
            int n = Math.min(Math.min(chunk, io.limits.maxTokens()), count - done);
            add(slot, tokens, offset + done, n, n - 1);
            last = run(false);
            done += n;
        }
        return last;
    }

    /** Binds the pass's inputs and outputs to {@code session} and runs it; {@link Model} owns the session. */
    void bindAndRun(OrtEnvironment env, OrtSession session, int lo, int hi, int window, int padded, int paddedRows,
                    boolean withProbabilities) throws OrtException {
        int batch = hi - lo;
        int kv = config.kvDim();
        List<OnnxTensor> owned = new ArrayList<>(2 * config.nLayer() * (entries.size() + 1) + 10);
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>(2 * config.nLayer() + 8);
            Map<String, OnnxValue> outputs = new HashMap<>(2 * config.nLayer() * entries.size() + 4);
            bindRows(env, inputs, owned, padded, batch, window, paddedRows);
            long[] slab = cache.slabShape(batch);
            for (int l = 0; l < config.nLayer(); l++) {
                inputs.put(Signature.pastKey(l), own(owned, OnnxTensor.createTensor(env, cache.slab(l, true, lo, hi), slab)));
                inputs.put(Signature.pastValue(l), own(owned, OnnxTensor.createTensor(env, cache.slab(l, false, lo, hi), slab)));
                for (int i = 0; i < entries.size(); i++) {
                    Entry e = entries.get(i);
                    long[] shape = {1, e.count(), kv};
                    int at = cache.length(e.slot());
                    outputs.put(Signature.newKey(l, i), own(owned, OnnxTensor.createTensor(env,
                            cache.positions(e.slot(), l, true, at, e.count()), shape)));
                    outputs.put(Signature.newValue(l, i), own(owned, OnnxTensor.createTensor(env,
                            cache.positions(e.slot(), l, false, at, e.count()), shape)));
                }
            }
            // A pass that wants no logits (a prompt chunk) asks for none: ONNX Runtime then skips the lm_head.
            if (paddedRows > 0) {
                outputs.put(Signature.LOGITS, own(owned, OnnxTensor.createTensor(env, io.logits.region(paddedRows),
                        new long[] {paddedRows, config.vocabSize()})));
                outputs.put(Signature.NEXT_TOKEN, own(owned, OnnxTensor.createTensor(env, io.logits.bestRegion(paddedRows),
                        new long[] {paddedRows})));
                if (withProbabilities) {
                    // ONNX Runtime runs only what the requested outputs need: without this, no softmax is computed.
                    outputs.put(Signature.NEXT_TOKEN_PROB, own(owned, OnnxTensor.createTensor(env,
                            io.logits.bestProbabilityRegion(paddedRows), new long[] {paddedRows})));
                }
            }
            try (OrtSession.Result ignored = session.run(inputs, outputs)) {
                // Every output is pinned into our buffers; the result owns nothing.
            }
        } finally {
            owned.forEach(OnnxTensor::close);
        }
    }

    /** The inputs that describe the pass's rows (everything but the caches). */
    private void bindRows(OrtEnvironment env, Map<String, OnnxTensor> inputs, List<OnnxTensor> owned, int count,
                          int batch, int window, int logitRows) throws OrtException {
        inputs.put(Signature.INPUT_IDS, own(owned, OnnxTensor.createTensor(env, region(io.ids, count), new long[] {1, count})));
        inputs.put(Signature.POSITION_IDS, own(owned, OnnxTensor.createTensor(env, region(io.positions, count), new long[] {1, count})));
        inputs.put(Signature.WINDOW_INDEX, own(owned, OnnxTensor.createTensor(env, region(io.windowIndex, batch * window),
                new long[] {batch, window})));
        inputs.put(Signature.TOKEN_INDEX, own(owned, OnnxTensor.createTensor(env, region(io.tokenIndex, count), new long[] {count})));
        inputs.put(Signature.PAST_LENGTH, own(owned, OnnxTensor.createTensor(env, region(io.pastLength, batch), new long[] {batch})));
        inputs.put(Signature.ROW_TOKENS, own(owned, OnnxTensor.createTensor(env, region(io.rowTokens, Signature.ROWS + 1),
                new long[] {Signature.ROWS + 1})));
        inputs.put(Signature.LOGITS_INDEX, own(owned, OnnxTensor.createTensor(env, region(io.logitsIndex, logitRows),
                new long[] {logitRows})));
    }

    /**
     * Runs one row of tokens from an empty cache and returns the named outputs as float arrays: for calibration
     * and diagnostics, not the decode loop (it copies everything).
     */
    Map<String, float[]> probe(OrtEnvironment env, OrtSession session, int[] tokenIds, Collection<String> names)
            throws OrtException {
        add(0, tokenIds, 0, tokenIds.length, tokenIds.length - 1);
        int count = tokens;
        io.pastLength.put(0, 0);
        for (int i = 0; i <= Signature.ROWS; i++) {
            io.rowTokens.put(i, i == 0 ? count : 0);
        }
        for (int s = 0; s < count; s++) {
            io.windowIndex.put(s, s);
            io.tokenIndex.put(s, s);
        }
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            bindRows(env, inputs, owned, count, 1, count, 1);
            for (int l = 0; l < config.nLayer(); l++) {
                inputs.put(Signature.pastKey(l), own(owned, OnnxTensor.createTensor(env, cache.slab(l, true, 0, 1), cache.slabShape(1))));
                inputs.put(Signature.pastValue(l), own(owned, OnnxTensor.createTensor(env, cache.slab(l, false, 0, 1), cache.slabShape(1))));
            }
            // Attention reads each layer's keys from the cache, so they must be written there, as in any pass.
            Map<String, OnnxValue> outputs = new HashMap<>();
            for (int l = 0; l < config.nLayer(); l++) {
                long[] shape = {1, count, config.kvDim()};
                outputs.put(Signature.newKey(l, 0), own(owned, OnnxTensor.createTensor(env, cache.positions(0, l, true, 0, count), shape)));
                outputs.put(Signature.newValue(l, 0), own(owned, OnnxTensor.createTensor(env, cache.positions(0, l, false, 0, count), shape)));
            }
            Map<String, float[]> out = new LinkedHashMap<>();
            try (OrtSession.Result result = session.run(inputs, new LinkedHashSet<>(names), outputs)) {
                for (String name : names) {
                    FloatBuffer fb = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
                    float[] values = new float[fb.remaining()];
                    fb.get(values);
                    out.put(name, values);
                }
            }
            return out;
        } finally {
            owned.forEach(OnnxTensor::close);
            clear();
        }
    }

    private static LongBuffer region(LongBuffer b, int n) {
        return b.duplicate().position(0).limit(n);
    }

    private static OnnxTensor own(List<OnnxTensor> owned, OnnxTensor t) {
        owned.add(t);
        return t;
    }

    @Override
    public void close() {
        closeQuietly();
    }

    private void closeQuietly() {
        if (io != null) {
            io.close();
        }
        if (cache != null) {
            cache.close();
        }
        memory.close();
    }

    /** One pass's input and output buffers, sized by the batch's limits. */
    private final class Io implements AutoCloseable {
        final Limits limits;
        final List<ArrowBuf> owned = new ArrayList<>();
        final LongBuffer ids;
        final LongBuffer positions;
        final LongBuffer windowIndex;
        final LongBuffer tokenIndex;
        final LongBuffer pastLength;
        final LongBuffer rowTokens;
        final LongBuffer logitsIndex;
        final Logits logits;

        Io(Limits limits) {
            this.limits = limits;
            // One more token and logits row than asked for: the spare that keeps a pass even.
            int t = limits.maxTokens() + 1;
            int r = limits.maxRows() + 1;
            try {
                ids = longs(t);
                positions = longs(t);
                windowIndex = longs((long) limits.slots() * t);
                tokenIndex = longs(t);
                pastLength = longs(limits.slots());
                rowTokens = longs(Signature.ROWS + 1);
                logitsIndex = longs(r);
                logits = new Logits(floats((long) r * config.vocabSize()), longs(r), floats(r), config.vocabSize());
            } catch (OutOfMemoryException e) {
                close();
                throw new OffHeapLimitException(model.id() + ": a pass of up to " + t + " tokens and " + r
                        + " logits rows needs " + OffHeapMemory.mib(bytes(config, limits)) + " of I/O buffers; the "
                        + "off-heap limit is " + OffHeapMemory.mib(memory.getLimit()) + " with "
                        + OffHeapMemory.mib(memory.getAllocatedMemory()) + " in use (raise --kv-cache-memory)", e);
            }
        }

        static long bytes(ModelConfig c, Limits l) {
            long t = l.maxTokens() + 1;
            long r = l.maxRows() + 1;
            return 8L * (4 * t + (long) l.slots() * t + l.slots() + Signature.ROWS + 1 + 2 * r) + 4L * (r * c.vocabSize() + r);
        }

        private LongBuffer longs(long n) {
            return buffer(8 * Math.max(1, n)).asLongBuffer();
        }

        private FloatBuffer floats(long n) {
            return buffer(4 * Math.max(1, n)).asFloatBuffer();
        }

        private java.nio.ByteBuffer buffer(long bytes) {
            ArrowBuf b = memory.buffer(bytes);
            owned.add(b);
            return OffHeapMemory.view(b);
        }

        @Override
        public void close() {
            owned.forEach(ArrowBuf::close);
            owned.clear();
        }
    }
}
