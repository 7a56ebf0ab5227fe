package dev.starspec.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Sampling;
import dev.starspec.engine.decode.SpeculativeSampling;
import dev.starspec.engine.runtime.CostCurve;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.job.bench.BenchResult;
import dev.starspec.job.bench.Benchmark;
import dev.starspec.job.bench.MemoryBandwidth;
import dev.starspec.job.bench.Speculation;
import dev.starspec.job.bench.Throughput;
import dev.starspec.job.humaneval.Problem;
import dev.starspec.job.humaneval.Problems;
import dev.starspec.udfs.DraftSpec;
import dev.starspec.udfs.GenerationConfig;
import dev.starspec.udfs.ModelRegistry;
import dev.starspec.udfs.ModelSpec;
import dev.starspec.udfs.OutputStats;
import dev.starspec.udfs.RequestDefaults;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.DoubleSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code starspec bench}: what the models cost on this machine, measured in one run. Three measurements, each
 * printed as a table and as one JSON line per configuration:
 *
 * <ul>
 *   <li>single stream (always): median TTFT and TPOT against the decode floor (weight bytes per token / the read
 *       bandwidth measured right before each run); with {@code --draft}, a K sweep against two predictions;
 *   <li>{@code --cost-curve}: t(M), the cost of one pass over M tokens, for M = 1..16 and beyond (recorded beside
 *       the artifact, where decoders read it);
 *   <li>{@code --batch 1,2,4,8,16}: throughput of a bulk job at each batch size, without and with the draft (each
 *       fixed K and the adaptive lengths), and the automatic policy; then the best configuration.
 * </ul>
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure what the models cost on this machine: single-stream TTFT and TPOT against the decode "
                + "floor, the pass cost curve t(M), and bulk throughput across batch sizes and draft lengths.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, split = ",", description = "artifact or checkpoint folder(s), comma-separated")
    List<String> models;

    @Option(names = "--prompt-tokens", defaultValue = "139", description = "single stream: prompt length (default ${DEFAULT-VALUE}: the mean HumanEval prompt)")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "64", description = "tokens to generate per prompt (default ${DEFAULT-VALUE})")
    int newTokens;

    @Option(names = "--runs", defaultValue = "5", description = "measured runs per configuration (default ${DEFAULT-VALUE}); "
            + "throughput runs interleave the configurations")
    int runs;

    @Option(names = "--warmup", defaultValue = "2", description = "single stream: unmeasured runs first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--draft", description = "also measure speculation with this draft (artifact/checkpoint folder or "
            + "'prompt-lookup') against each model")
    String draft;

    @Option(names = "--draft-tokens", split = ",", defaultValue = "1,2,3,5,8",
            description = "fixed K values to sweep with --draft (default ${DEFAULT-VALUE})")
    List<Integer> draftTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "sample at this temperature, single stream "
            + "and throughput (single stream with --draft: both coupled and rejection sampling are measured; default "
            + "${DEFAULT-VALUE}, greedy)")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "with --temperature: nucleus mass (default ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--batch", split = ",", description = "throughput sweep over these batch sizes, e.g. 1,2,4,8,16")
    List<Integer> batches;

    @Option(names = "--prompts", defaultValue = "48", description = "throughput: HumanEval prompts per run (default ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = "--cost-curve", description = "measure t(M), the cost of a pass over M tokens, and record it beside the artifact")
    boolean costCurve;

    @Option(names = "--no-single", description = "skip the single-stream measurement")
    boolean noSingle;

    @Option(names = "--bandwidth-bytes", defaultValue = "2g", description = "buffer scanned to measure read bandwidth (default ${DEFAULT-VALUE})")
    String bandwidthBytes;

    @Mixin
    DecodingMixin decoding;

    @Mixin
    RuntimeMixin runtime;

    private final ObjectMapper json = new ObjectMapper();
    /** --temperature and --top-p, checked. */
    private Sampling sampling;

    @Override
    public Integer call() throws Exception {
        sampling = new Sampling(temperature, topP, 0, 0); // a bad temperature or top-p fails here, before any measuring
        RuntimeOptions options = runtime.options();
        List<Problem> problems = Problems.load(Bundled.humanEval());
        try (MemoryBandwidth probe = new MemoryBandwidth(Sizes.parseBytes(bandwidthBytes), options.threads())) {
            MemoryBandwidth.Result scans = probe.measure(9);
            System.out.printf("machine: %d cores, %d threads; read bandwidth over 9 scans of %s: %.1f to %.1f GB/s "
                            + "(median %.1f); each single-stream run is compared with the best of 3 scans taken right before it%n",
                    Runtime.getRuntime().availableProcessors(), options.threads(), bandwidthBytes, scans.passes()[0],
                    scans.best(), scans.median());
            DoubleSupplier bandwidth = () -> {
                try {
                    return probe.measure(3).best();
                } catch (Exception e) {
                    throw new IllegalStateException("bandwidth scan failed", e);
                }
            };
            for (String model : models) {
                if (costCurve) {
                    costCurves(model, options);
                }
                if (!noSingle) {
                    singleStream(model, options, problems, bandwidth);
                }
                if (batches != null && !batches.isEmpty()) {
                    throughput(model, options, problems);
                }
                ModelRegistry.closeAll(); // the next model gets the memory
            }
        }
        return 0;
    }

    private GenerationConfig config(String model, DraftSpec d, int batch, DraftLength length, RuntimeOptions options,
                                    int maxNew) {
        return config(model, d, batch, length, options, maxNew, decoding.speculativeSampling());
    }

    private GenerationConfig config(String model, DraftSpec d, int batch, DraftLength length, RuntimeOptions options,
                                    int maxNew, SpeculativeSampling sampling) {
        return new GenerationConfig(ModelSpec.of(model), d, new DecodeOptions(batch, length, sampling, ContextPolicy.ERROR),
                options, runtime.offHeapBytes(), new RequestDefaults(maxNew, 0, 1, 0, 0, List.of()));
    }

    private DraftSpec draftSpec() {
        return decoding.draft(draft);
    }

    // ---- t(M) ----------------------------------------------------------------------------------------------------

    private void costCurves(String model, RuntimeOptions options) throws Exception {
        Decoder d = ModelRegistry.decoder(config(model, draftSpec(), 1, DraftLength.fixed(1), options, 1));
        printCurve(d.targetId(), d.target().measureCostCurve());
        if (d.draft() instanceof dev.starspec.engine.decode.Draft.OfModel m) {
            printCurve(m.model().id(), m.model().measureCostCurve());
        }
    }

    private void printCurve(String id, CostCurve curve) throws Exception {
        System.out.printf("%ncost of one pass over M tokens (windows of up to 4 tokens a row, %d cached positions each), "
                + "%s, on %s%n", CostCurve.PAST, id, curve.machine());
        System.out.printf("%6s %10s %10s %12s%n", "M", "t(M) ms", "t(M)/t(1)", "tokens/ms");
        ObjectNode n = json.createObjectNode();
        n.put("model", id);
        var points = n.putArray("t_ms");
        for (int m = 1; m <= Math.max(16, curve.measuredUpTo()); m = m < 16 ? m + 1 : m * 2) {
            double t = curve.passMs(m);
            System.out.printf("%6d %10.3f %10.2f %12.2f%n", m, t, t / curve.passMs(1), m / t);
            points.addObject().put("m", m).put("ms", t);
        }
        System.out.println(json.writeValueAsString(n));
    }

    // ---- single stream ---------------------------------------------------------------------------------------------

    private void singleStream(String model, RuntimeOptions options, List<Problem> problems, DoubleSupplier bandwidth)
            throws Exception {
        Benchmark bench = new Benchmark(problems, promptTokens, newTokens, warmup, runs, sampling);
        System.out.println();
        System.out.println(BenchResult.HEADER);
        Decoder plainDecoder = ModelRegistry.decoder(config(model, new DraftSpec.None(), 1, DraftLength.fixed(1), options, 1));
        BenchResult plain = bench.run(plainDecoder, bandwidth);
        System.out.println(plain.row());
        System.out.println(json.writeValueAsString(plain.json()));
        if (draft == null) {
            return;
        }
        DraftSpec spec = draftSpec();
        double draftTpot = 0;
        if (spec instanceof DraftSpec.Model m) {
            Decoder alone = ModelRegistry.decoder(config(m.model().location(), new DraftSpec.None(), 1, DraftLength.fixed(1),
                    options, 1));
            BenchResult draftAlone = bench.run(alone, bandwidth);
            System.out.println(draftAlone.row());
            System.out.println(json.writeValueAsString(draftAlone.json()));
            draftTpot = draftAlone.tpotMs();
        }
        CostCurve targetCost = plainDecoder.target().costCurve();
        List<SpeculativeSampling> modes = temperature > 0 ? List.of(SpeculativeSampling.COUPLED, SpeculativeSampling.REJECTION)
                : List.of(decoding.speculativeSampling());
        for (SpeculativeSampling mode : modes) {
            System.out.printf("%nspeculation, one row%s: %s + %s, c = %.3f (draft %.2f ms / target %.2f ms per token)%n",
                    temperature > 0 ? String.format(", %s sampling at T = %s", mode.name().toLowerCase(), temperature) : "",
                    plain.model(), spec.describe(), draftTpot / plain.tpotMs(), draftTpot, plain.tpotMs());
            System.out.println(Speculation.HEADER);
            Speculation best = null;
            for (int k : draftTokens) {
                Decoder d = ModelRegistry.decoder(config(model, spec, 1, new DraftLength(k, false, decoding.draftPMin), options,
                        1, mode));
                Speculation sp = new Speculation(k, plain.tpotMs(), draftTpot, bench.run(d, bandwidth), targetCost);
                System.out.println(sp.row());
                ObjectNode line = sp.json();
                line.put("sampling", temperature > 0 ? mode.name().toLowerCase() : "greedy");
                System.out.println(json.writeValueAsString(line));
                if (best == null || sp.speedup() > best.speedup()) {
                    best = sp;
                }
            }
            System.out.printf("best K = %d: %.2fx faster than %s alone (a = %.3f)%n", best.k(), best.speedup(), plain.model(),
                    best.fittedAcceptance());
        }
    }

    // ---- throughput ------------------------------------------------------------------------------------------------

    /** A configuration of the sweep. */
    private record Setting(String label, int batch, DraftSpec draft, DraftLength length, String k) {}

    private void throughput(String model, RuntimeOptions options, List<Problem> problems) throws Exception {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < Math.min(prompts, problems.size()); i++) {
            // Seeded per prompt, as the job seeds per row: every setting samples the same completions.
            requests.add(new GenerationRequest(problems.get(i).prompt(), newTokens, List.of(),
                    temperature > 0 ? new Sampling(temperature, topP, 0, i) : Sampling.GREEDY));
        }
        Throughput workload = new Throughput(requests);
        int maxK = draftTokens.stream().mapToInt(Integer::intValue).max().orElse(5);
        List<Setting> settings = new ArrayList<>();
        for (int b : batches) {
            settings.add(new Setting("batch " + b + ", no draft", b, new DraftSpec.None(), DraftLength.fixed(1), "-"));
            if (draft != null) {
                for (int k : draftTokens) {
                    settings.add(new Setting("batch " + b + ", K=" + k, b, draftSpec(),
                            new DraftLength(k, false, decoding.draftPMin), Integer.toString(k)));
                }
                settings.add(new Setting("batch " + b + ", adaptive K<=" + maxK, b, draftSpec(),
                        new DraftLength(maxK, true, decoding.draftPMin), "<=" + maxK));
            }
        }
        Setting auto = new Setting("auto", DecodeOptions.AUTO_BATCH, draft == null ? new DraftSpec.None() : draftSpec(),
                new DraftLength(maxK, true, decoding.draftPMin), draft == null ? "-" : "<=" + maxK);
        settings.add(auto);

        Map<Setting, Decoder> decoders = new LinkedHashMap<>();
        for (Setting s : settings) {
            decoders.put(s, ModelRegistry.decoder(config(model, s.draft(), s.batch(), s.length(), options, newTokens)));
        }
        Decoder autoDecoder = decoders.get(auto);
        System.out.printf("%nthroughput: %d HumanEval prompts x %d new tokens per run, %d runs interleaved, %s; %s%s; the "
                        + "automatic policy chose batch %d%n", requests.size(), newTokens, runs,
                temperature > 0 ? String.format("sampled at T = %s, top-p %s", temperature, topP) : "greedy",
                autoDecoder.targetId(), draft == null ? "" : " + " + autoDecoder.draftId(), autoDecoder.batchSize());
        workload.run(decoders.get(settings.get(0))); // warms the JIT and ONNX Runtime up before anything is timed
        Map<Setting, List<Throughput.Run>> measured = new LinkedHashMap<>();
        for (int r = 0; r < runs; r++) {
            for (Setting s : settings) {
                measured.computeIfAbsent(s, x -> new ArrayList<>()).add(workload.run(decoders.get(s)));
            }
        }
        List<Throughput.Result> results = new ArrayList<>();
        for (Setting s : settings) {
            List<Throughput.Run> rs = measured.get(s);
            OutputStats all = new OutputStats();
            rs.forEach(x -> all.merge(x.stats()));
            Decoder d = decoders.get(s);
            results.add(new Throughput.Result(s == auto ? "auto (batch " + d.batchSize() + ", adaptive)" : s.label(),
                    d.batchSize(), d.draftId(), s.k(),
                    OutputStats.Distribution.of(rs.stream().mapToDouble(Throughput.Run::tokensPerS).toArray()),
                    all.tpotMs().median(), all.ttftMs().median(), all.acceptance(),
                    rs.stream().mapToDouble(Throughput.Run::meanWindow).average().orElse(1)));
        }
        double baseline = results.get(0).tokensPerS().median();
        System.out.println(Throughput.Result.HEADER + "   vs " + results.get(0).label());
        for (Throughput.Result r : results) {
            System.out.println(r.row(baseline));
            System.out.println(json.writeValueAsString(r.json(baseline).put("temperature", temperature).put("top_p", topP)));
        }
        Throughput.Result best = results.get(0);
        for (Throughput.Result r : results.subList(0, results.size() - 1)) {
            if (r.tokensPerS().median() > best.tokensPerS().median()) {
                best = r;
            }
        }
        Throughput.Result chosen = results.get(results.size() - 1);
        System.out.printf("best fixed configuration: %s, %.1f tokens/s (%.2fx %s); the automatic policy: %.1f tokens/s, "
                        + "%.0f%% of it%n", best.label(), best.tokensPerS().median(), best.tokensPerS().median() / baseline,
                results.get(0).label(), chosen.tokensPerS().median(), 100 * chosen.tokensPerS().median() / best.tokensPerS().median());
        ObjectNode summary = json.createObjectNode();
        summary.set("best", best.json(baseline));
        summary.set("auto", chosen.json(baseline));
        summary.put("auto_over_best", chosen.tokensPerS().median() / best.tokensPerS().median());
        System.out.println(json.writeValueAsString(summary));
    }
}
