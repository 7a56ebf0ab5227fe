package dev.starspec.engine.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.AllocationListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.rounding.SegmentRoundingPolicy;

/**
 * The process's accounted off-heap memory for KV caches and I/O tensors. Arrow's allocators track every byte:
 * a generation takes a child allocator, and closing it proves (or reports) that nothing leaked. The root's
 * limit ({@code --kv-cache-memory}) bounds all generations of this JVM together; an allocation past it fails
 * that generation with a clear error instead of taking the executor down.
 */
public final class OffHeapMemory {

    /** Rounded to 4 KiB pages, not Arrow's default powers of two, which would waste up to half of a cache. */
    private static final RootAllocator ROOT = newRoot(Long.MAX_VALUE);

    private OffHeapMemory() {}

    public static BufferAllocator root() {
        return ROOT;
    }

    /** A root allocator with the rounding used here; tests make their own to check accounting in isolation. */
    public static RootAllocator newRoot(long limit) {
        return new RootAllocator(AllocationListener.NOOP, limit, new SegmentRoundingPolicy(4096L));
    }

    public static void setLimit(long bytes) {
        ROOT.setLimit(bytes);
    }

    /** A native-order view of {@code buf} that ONNX Runtime reads and writes in place. */
    static ByteBuffer view(ArrowBuf buf) {
        return buf.nioBuffer(0, Math.toIntExact(buf.capacity())).order(ByteOrder.nativeOrder());
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
