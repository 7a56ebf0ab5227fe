package dev.starspec.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.artifact.ArtifactCache;
import dev.starspec.engine.decode.AutoregressiveDecoder;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.job.Bundled;
import dev.starspec.job.bench.BenchResult;
import dev.starspec.job.bench.Benchmark;
import dev.starspec.job.bench.MemoryBandwidth;
import dev.starspec.job.humaneval.Problems;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.DoubleSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code starspec bench}: TTFT and TPOT against the memory-bandwidth floor, measured in one run. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure median TTFT and TPOT of models and compare TPOT with the decode floor "
                + "(weight bytes per token / this machine's measured read bandwidth).")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, split = ",", description = "artifact or checkpoint folder(s), comma-separated")
    List<Path> models;

    @Option(names = "--prompt-tokens", defaultValue = "139", description = "prompt length (default ${DEFAULT-VALUE}: the mean HumanEval prompt)")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "64", description = "tokens to generate per run (default ${DEFAULT-VALUE})")
    int newTokens;

    @Option(names = "--runs", defaultValue = "5", description = "measured runs (default ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--warmup", defaultValue = "2", description = "unmeasured runs first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--bandwidth-bytes", defaultValue = "2g", description = "buffer scanned to measure read bandwidth (default ${DEFAULT-VALUE})")
    String bandwidthBytes;

    @Mixin
    RuntimeMixin runtime;

    @Override
    public Integer call() throws Exception {
        RuntimeOptions options = runtime.options();
        try (MemoryBandwidth probe = new MemoryBandwidth(Sizes.parseBytes(bandwidthBytes), options.threads())) {
            MemoryBandwidth.Result scans = probe.measure(9);
            System.out.printf("machine: %d cores, %d threads; read bandwidth over 9 scans of %s: %.1f to %.1f GB/s "
                            + "(median %.1f); each run is compared with the best of 3 scans taken right before it%n",
                    Runtime.getRuntime().availableProcessors(), options.threads(), bandwidthBytes, scans.passes()[0],
                    scans.best(), scans.median());
            DoubleSupplier bandwidth = () -> {
                try {
                    return probe.measure(3).best();
                } catch (Exception e) {
                    throw new IllegalStateException("bandwidth scan failed", e);
                }
            };
            return benchAll(options, bandwidth);
        }
    }

    private int benchAll(RuntimeOptions options, DoubleSupplier bandwidth) throws Exception {
        Benchmark bench = new Benchmark(Problems.load(Bundled.humanEval()), promptTokens, newTokens, warmup, runs);
        ArtifactCache cache = ArtifactCache.standard();
        System.out.println(BenchResult.HEADER);
        ObjectMapper json = new ObjectMapper();
        for (Path dir : models) {
            try (Model model = Model.load(cache.resolve(dir, null, System.err::println), options)) {
                Decoder decoder = new AutoregressiveDecoder(model, OffHeapMemory.root(), ContextPolicy.ERROR);
                BenchResult r = bench.run(decoder, model, bandwidth);
                System.out.println(r.row());
                System.out.println(json.writeValueAsString(r.json()));
            }
        }
        return 0;
    }
}
