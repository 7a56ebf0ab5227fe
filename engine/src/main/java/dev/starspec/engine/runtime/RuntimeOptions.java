package dev.starspec.engine.runtime;

/**
 * How a model runs on this machine.
 *
 * @param threads ONNX Runtime intra-op threads: the executor's cores
 * @param spinning let idle pool threads spin between operators: much lower latency per operator on a node
 *     given to this job, wasted cycles when other work shares the cores
 * @param prefillChunk prompt tokens per forward pass during prefill; bounds the attention scores' memory
 *     ({@code heads * chunk * context} floats) on long prompts
 */
public record RuntimeOptions(int threads, boolean spinning, int prefillChunk) implements java.io.Serializable {

    public RuntimeOptions {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        if (prefillChunk <= 0) {
            throw new IllegalArgumentException("prefill chunk must be positive, got " + prefillChunk);
        }
    }

    public static RuntimeOptions defaults() {
        return new RuntimeOptions(Runtime.getRuntime().availableProcessors(), true, 512);
    }

    public RuntimeOptions withThreads(int n) {
        return new RuntimeOptions(n, spinning, prefillChunk);
    }
}
