package dev.starspec.engine.runtime;

import java.nio.FloatBuffer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The keys and values of every position a sequence has seen, per layer, token-major ({@code [capacity, kv]}),
 * in off-heap memory that ONNX Runtime reads as {@code past_*} and writes as {@code new_*} directly.
 *
 * <p>Invariant: slots {@code [0, length)} hold the keys/values of the accepted tokens. A forward pass writes
 * slots {@code [length, length + n)} and then {@link #advance}s; {@link #rollback} forgets a suffix by
 * moving {@code length} back (O(1): the stale slots are simply overwritten by the next pass).
 */
public final class KvCache implements AutoCloseable {

    private final ArrowBuf[] keys;
    private final ArrowBuf[] values;
    private final FloatBuffer[] keyFloats;
    private final FloatBuffer[] valueFloats;
    private final int capacity;
    private final int kvDim;
    private int length;

    KvCache(BufferAllocator allocator, int layers, int kvDim, int capacity) {
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.keys = new ArrowBuf[layers];
        this.values = new ArrowBuf[layers];
        this.keyFloats = new FloatBuffer[layers];
        this.valueFloats = new FloatBuffer[layers];
        long bytes = 4L * capacity * kvDim;
        try {
            for (int l = 0; l < layers; l++) {
                keys[l] = allocator.buffer(bytes);
                values[l] = allocator.buffer(bytes);
                keyFloats[l] = OffHeapMemory.view(keys[l]).asFloatBuffer();
                valueFloats[l] = OffHeapMemory.view(values[l]).asFloatBuffer();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Bytes a cache of this shape occupies. */
    static long bytes(int layers, int kvDim, int capacity) {
        return 2L * layers * 4L * capacity * kvDim;
    }

    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    public int kvDim() {
        return kvDim;
    }

    public int layers() {
        return keys.length;
    }

    /** Forgets every position at or after {@code newLength}. */
    public void rollback(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot roll back to " + newLength + " from length " + length);
        }
        length = newLength;
    }

    void advance(int n) {
        if (length + n > capacity) {
            throw new IllegalStateException("KV cache overflow: " + length + " + " + n + " > " + capacity);
        }
        length += n;
    }

    /** Slots {@code [from, to)} of layer {@code layer}'s keys, as a buffer ONNX Runtime can use in place. */
    FloatBuffer keys(int layer, int from, int to) {
        return slots(keyFloats[layer], from, to);
    }

    FloatBuffer values(int layer, int from, int to) {
        return slots(valueFloats[layer], from, to);
    }

    private FloatBuffer slots(FloatBuffer all, int from, int to) {
        return all.duplicate().position(from * kvDim).limit(to * kvDim);
    }

    /** A copy of slots {@code [from, to)} of a layer's keys (or values): for tests and diagnostics. */
    public float[] copy(int layer, boolean ofKeys, int from, int to) {
        float[] out = new float[(to - from) * kvDim];
        (ofKeys ? keys(layer, from, to) : values(layer, from, to)).get(out);
        return out;
    }

    @Override
    public void close() {
        for (int l = 0; l < keys.length; l++) {
            if (keys[l] != null) {
                keys[l].close();
            }
            if (values[l] != null) {
                values[l].close();
            }
        }
    }
}
