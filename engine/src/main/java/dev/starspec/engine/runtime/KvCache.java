package dev.starspec.engine.runtime;

import dev.starspec.engine.checkpoint.ModelConfig;
import java.nio.FloatBuffer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;

/**
 * The keys and values of every position the rows of a batch have seen: per layer one slab
 * {@code [slots, capacity, kv]} (token major) in off-heap memory, which a forward pass reads in place as
 * {@code past_*} and into which it writes its new tokens' keys and values ({@code new_*}, bound to the next slots
 * of each row). Each slot holds one row (a sequence) with its own length.
 *
 * <p>Invariant: slot s's positions {@code [0, length(s))} hold the keys/values of its accepted tokens. A pass
 * writes its new tokens after them and {@link #advance}s; {@link #rollback} forgets a suffix by moving the length
 * back (O(1): stale positions are overwritten by the next pass and masked until then). The slabs start zeroed
 * and only ever hold computed keys and values, so the masked positions a pass multiplies by zero are finite.
 */
public final class KvCache implements AutoCloseable {

    private final BufferAllocator memory;
    private final String owner;
    private final int layers;
    private final int kvDim;
    private int slots;
    private int capacity;
    private int[] length;
    private ArrowBuf[] keys;
    private ArrowBuf[] values;
    private FloatBuffer[] keyFloats;
    private FloatBuffer[] valueFloats;

    KvCache(BufferAllocator memory, String owner, ModelConfig c, int slots, int capacity) {
        this.memory = memory;
        this.owner = owner;
        this.layers = c.nLayer();
        this.kvDim = c.kvDim();
        this.length = new int[0];
        this.keys = new ArrowBuf[0];
        this.values = new ArrowBuf[0];
        resize(slots, capacity);
    }

    /** Bytes the slabs of {@code slots} rows of {@code capacity} positions occupy. */
    public static long bytes(ModelConfig c, int slots, int capacity) {
        return 2L * c.nLayer() * 4L * slots * capacity * c.kvDim();
    }

    public int slots() {
        return slots;
    }

    public int capacity() {
        return capacity;
    }

    public int length(int slot) {
        return length[slot];
    }

    public int layers() {
        return layers;
    }

    public int kvDim() {
        return kvDim;
    }

    /** Forgets every position of {@code slot} at or after {@code newLength}. */
    public void rollback(int slot, int newLength) {
        if (newLength < 0 || newLength > length[slot]) {
            throw new IllegalArgumentException("cannot roll slot " + slot + " back to " + newLength + " from length "
                    + length[slot]);
        }
        length[slot] = newLength;
    }

    /** Declares {@code length} positions of {@code slot} cached, whatever they hold: for timing passes only. */
    void fill(int slot, int newLength) {
        if (newLength > capacity) {
            throw new IllegalArgumentException(newLength + " positions exceed the capacity of " + capacity);
        }
        length[slot] = newLength;
    }

    /**
     * Grows (or shrinks) the slabs to {@code newSlots x newCapacity}, keeping every row whose slot and length still
     * fit. All new memory is taken before the old is returned: on failure nothing changes and the exception says
     * how much was asked for.
     */
    void resize(int newSlots, int newCapacity) {
        if (newSlots <= 0 || newCapacity <= 0) {
            throw new IllegalArgumentException("a KV cache needs at least one slot and one position");
        }
        for (int s = newSlots; s < slots; s++) {
            if (length[s] > 0) {
                throw new IllegalStateException("slot " + s + " still holds a row");
            }
        }
        long bytes = 4L * newSlots * newCapacity * kvDim;
        ArrowBuf[] k = new ArrowBuf[layers];
        ArrowBuf[] v = new ArrowBuf[layers];
        try {
            for (int l = 0; l < layers; l++) {
                k[l] = zeroed(bytes);
                v[l] = zeroed(bytes);
            }
        } catch (OutOfMemoryException e) {
            closeAll(k);
            closeAll(v);
            throw new OffHeapLimitException(owner + ": a KV cache of " + newSlots + " rows x " + newCapacity
                    + " positions needs " + OffHeapMemory.mib(2L * layers * bytes) + "; the off-heap limit is "
                    + OffHeapMemory.mib(memory.getLimit()) + " with " + OffHeapMemory.mib(memory.getAllocatedMemory())
                    + " in use (raise --kv-cache-memory, lower --batch-size or shorten prompt + max new tokens)", e);
        }
        FloatBuffer[] kf = views(k);
        FloatBuffer[] vf = views(v);
        int[] newLength = new int[newSlots];
        for (int s = 0; s < Math.min(slots, newSlots); s++) {
            int n = Math.min(length[s], newCapacity);
            newLength[s] = n;
            for (int l = 0; l < layers; l++) {
                kf[l].put(s * newCapacity * kvDim, keyFloats[l], s * capacity * kvDim, n * kvDim);
                vf[l].put(s * newCapacity * kvDim, valueFloats[l], s * capacity * kvDim, n * kvDim);
            }
        }
        close();
        keys = k;
        values = v;
        keyFloats = kf;
        valueFloats = vf;
        length = newLength;
        slots = newSlots;
        capacity = newCapacity;
    }

    /** Counts the {@code count} positions a pass just wrote after the slot's cached ones. */
    void advance(int slot, int count) {
        if (length[slot] + count > capacity) {
            throw new IllegalStateException("KV cache overflow in slot " + slot + ": " + length[slot] + " + " + count
                    + " > " + capacity);
        }
        length[slot] += count;
    }

    /** Slots {@code [from, to)} of a layer's keys (or values): a region ONNX Runtime reads in place. */
    FloatBuffer slab(int layer, boolean ofKeys, int from, int to) {
        return (ofKeys ? keyFloats[layer] : valueFloats[layer]).duplicate()
                .position(from * capacity * kvDim).limit(to * capacity * kvDim);
    }

    long[] slabShape(int slotCount) {
        return new long[] {slotCount, capacity, kvDim};
    }

    /** Positions {@code [at, at + count)} of one slot: where a pass writes that row's new keys (or values). */
    FloatBuffer positions(int slot, int layer, boolean ofKeys, int at, int count) {
        int first = (slot * capacity + at) * kvDim;
        return (ofKeys ? keyFloats[layer] : valueFloats[layer]).duplicate().position(first).limit(first + count * kvDim);
    }

    /** A copy of positions {@code [from, to)} of one slot's keys (or values), {@code [n, kv]}: for tests. */
    public float[] copy(int slot, int layer, boolean ofKeys, int from, int to) {
        float[] out = new float[(to - from) * kvDim];
        (ofKeys ? keyFloats[layer] : valueFloats[layer]).get((slot * capacity + from) * kvDim, out);
        return out;
    }

    private ArrowBuf zeroed(long bytes) {
        ArrowBuf b = memory.buffer(bytes);
        b.setZero(0, b.capacity());
        return b;
    }

    private static FloatBuffer[] views(ArrowBuf[] bufs) {
        FloatBuffer[] out = new FloatBuffer[bufs.length];
        for (int i = 0; i < bufs.length; i++) {
            out[i] = OffHeapMemory.view(bufs[i]).asFloatBuffer();
        }
        return out;
    }

    private static void closeAll(ArrowBuf[] bufs) {
        for (ArrowBuf b : bufs) {
            if (b != null) {
                b.close();
            }
        }
    }

    @Override
    public void close() {
        closeAll(keys);
        closeAll(values);
        keys = new ArrowBuf[0];
        values = new ArrowBuf[0];
    }
}
