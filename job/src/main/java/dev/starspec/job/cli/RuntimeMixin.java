package dev.starspec.job.cli;

import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import picocli.CommandLine.Option;

/** How models run on this machine: threads, spinning, off-heap memory. */
public final class RuntimeMixin {

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads (default: all cores; in the Spark job "
            + "spark.task.cpus)")
    Integer threads;

    @Option(names = "--spin", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "let idle ONNX Runtime threads spin between operators; --no-spin when the cores are shared "
                    + "(default: ${DEFAULT-VALUE})")
    boolean spin;

    @Option(names = "--kv-cache-memory", defaultValue = "4g",
            description = "off-heap limit for KV caches and I/O tensors of all generations (e.g. 512m, 8g; default ${DEFAULT-VALUE})")
    String kvCacheMemory;

    @Option(names = "--prefill-chunk", defaultValue = "512", description = "prompt tokens per prefill pass (default ${DEFAULT-VALUE})")
    int prefillChunk;

    public RuntimeOptions options() {
        OffHeapMemory.setLimit(offHeapBytes());
        return new RuntimeOptions(threads != null ? threads : Runtime.getRuntime().availableProcessors(), spin, prefillChunk);
    }

    public long offHeapBytes() {
        return Sizes.parseBytes(kvCacheMemory);
    }
}
