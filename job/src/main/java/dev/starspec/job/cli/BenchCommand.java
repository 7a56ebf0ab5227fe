package dev.starspec.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.artifact.ArtifactCache;
import dev.starspec.engine.decode.AutoregressiveDecoder;
import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.Drafter;
import dev.starspec.engine.decode.ModelDrafter;
import dev.starspec.engine.decode.PromptLookupDrafter;
import dev.starspec.engine.decode.SpeculativeDecoder;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.job.Bundled;
import dev.starspec.job.bench.BenchResult;
import dev.starspec.job.bench.Benchmark;
import dev.starspec.job.bench.MemoryBandwidth;
import dev.starspec.job.bench.Speculation;
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

    @Option(names = "--draft", description = "also measure speculation with this draft (artifact/checkpoint folder or "
            + "'prompt-lookup') against each model")
    String draft;

    @Option(names = "--draft-tokens", split = ",", defaultValue = "1,2,3,5,8",
            description = "K values to sweep with --draft (default ${DEFAULT-VALUE})")
    List<Integer> draftTokens;

    @Option(names = "--draft-adaptive", description = "adaptive K (up to each --draft-tokens value)")
    boolean draftAdaptive;

    @Option(names = "--draft-p-min", defaultValue = "0", description = "stop drafting below this draft probability")
    double draftPMin;

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
                BenchResult plain = bench.run(new AutoregressiveDecoder(model, OffHeapMemory.root(), ContextPolicy.ERROR),
                        model, bandwidth);
                System.out.println(plain.row());
                System.out.println(json.writeValueAsString(plain.json()));
                if (draft != null) {
                    speculation(bench, model, plain, cache, options, bandwidth, json);
                }
            }
        }
        return 0;
    }

    /** The K sweep for one target: its speedup over the same target alone, against the analytical model. */
    private void speculation(Benchmark bench, Model target, BenchResult plain, ArtifactCache cache, RuntimeOptions options,
                             DoubleSupplier bandwidth, ObjectMapper json) throws Exception {
        Model draftModel = null;
        try {
            Drafter drafter;
            double draftTpot;
            if (draft.equals(PromptLookupDrafter.ID)) {
                drafter = new PromptLookupDrafter(3);
                draftTpot = 0;
            } else {
                draftModel = Model.load(cache.resolve(Path.of(draft), null, System.err::println), options);
                BenchResult alone = bench.run(new AutoregressiveDecoder(draftModel, OffHeapMemory.root(), ContextPolicy.ERROR),
                        draftModel, bandwidth);
                System.out.println(alone.row());
                System.out.println(json.writeValueAsString(alone.json()));
                drafter = new ModelDrafter(draftModel);
                draftTpot = alone.tpotMs();
            }
            System.out.printf("%nspeculation: %s + %s, c = %.3f (draft %.2f ms / target %.2f ms per token)%n",
                    target.id(), drafter.id(), draftTpot / plain.tpotMs(), draftTpot, plain.tpotMs());
            System.out.println(Speculation.HEADER);
            Speculation best = null;
            for (int k : draftTokens) {
                DraftLength length = new DraftLength(k, draftAdaptive, draftPMin);
                BenchResult r = bench.run(new SpeculativeDecoder(target, drafter, length, OffHeapMemory.root(),
                        ContextPolicy.ERROR), target, bandwidth);
                Speculation sp = new Speculation(k, plain.tpotMs(), draftTpot, r);
                System.out.println(sp.row());
                System.out.println(json.writeValueAsString(sp.json()));
                if (best == null || sp.speedup() > best.speedup()) {
                    best = sp;
                }
            }
            System.out.printf("best K = %d: %.2fx faster than %s alone (a = %.3f)%n%n", best.k(), best.speedup(),
                    target.id(), best.fittedAcceptance());
        } finally {
            if (draftModel != null) {
                draftModel.close();
            }
        }
    }
}
