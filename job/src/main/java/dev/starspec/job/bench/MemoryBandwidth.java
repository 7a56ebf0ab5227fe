package dev.starspec.job.bench;

import dev.starspec.engine.runtime.OffHeapMemory;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The machine's memory read bandwidth, measured the way decoding uses memory: threads streaming through an
 * off-heap buffer far larger than the caches. The decode floor (weight bytes / bandwidth) is computed from this
 * in the same run, so the ratio TPOT / floor does not depend on what the machine was doing another day.
 */
public final class MemoryBandwidth implements AutoCloseable {

    /** GB/s (10^9 bytes per second) of each pass, sorted. */
    public record Result(double[] passes) {
        public double median() {
            return passes[passes.length / 2];
        }

        /** The best pass: what the memory can deliver, hence the floor's denominator. */
        public double best() {
            return passes[passes.length - 1];
        }
    }

    private final BufferAllocator memory = OffHeapMemory.root().newChildAllocator("bandwidth", 0, Long.MAX_VALUE);
    private final ArrowBuf buf;
    private final List<LongBuffer> slices = new ArrayList<>();
    private final ExecutorService pool;
    private final long scanned;
    private boolean warm;

    /** A buffer of about {@code bytes}, split into one slice per thread (each below 2 GiB). */
    public MemoryBandwidth(long bytes, int threads) {
        long slice = Math.min(bytes / threads, 1L << 30) / 64 * 64;
        this.scanned = slice * threads;
        this.buf = memory.buffer(scanned);
        for (long i = 0; i < scanned; i += 4096) {
            buf.setLong(i, i); // touch every page so the scans measure reads, not page faults
        }
        for (int t = 0; t < threads; t++) {
            slices.add(buf.nioBuffer(t * slice, Math.toIntExact(slice)).order(ByteOrder.nativeOrder()).asLongBuffer());
        }
        this.pool = Executors.newFixedThreadPool(threads);
    }

    public Result measure(int passes) throws Exception {
        if (!warm) {
            scanOnce(); // let the JIT compile the loop before anything is timed
            scanOnce();
            warm = true;
        }
        double[] rates = new double[passes];
        for (int p = 0; p < passes; p++) {
            long start = System.nanoTime();
            scanOnce();
            rates[p] = scanned / ((System.nanoTime() - start) / 1e9) / 1e9;
        }
        Arrays.sort(rates);
        return new Result(rates);
    }

    private long scanOnce() throws Exception {
        List<Future<Long>> parts = new ArrayList<>();
        for (LongBuffer s : slices) {
            parts.add(pool.submit(() -> scan(s)));
        }
        long sum = 0;
        for (Future<Long> f : parts) {
            sum += f.get();
        }
        return sum;
    }

    /** Four independent sums keep several loads in flight; the JIT turns get(i) into plain loads. */
    private static long scan(LongBuffer longs) {
        long a = 0;
        long b = 0;
        long c = 0;
        long d = 0;
        int n = longs.limit() / 4 * 4;
        for (int i = 0; i < n; i += 4) {
            a += longs.get(i);
            b += longs.get(i + 1);
            c += longs.get(i + 2);
            d += longs.get(i + 3);
        }
        return a + b + c + d;
    }

    @Override
    public void close() {
        pool.shutdownNow();
        buf.close();
        memory.close();
    }
}
