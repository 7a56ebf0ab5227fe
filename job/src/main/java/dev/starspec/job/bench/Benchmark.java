package dev.starspec.job.bench;

import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Generation;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Sampling;
import dev.starspec.engine.runtime.Model;
import dev.starspec.job.humaneval.Problem;
import dev.starspec.udfs.OutputRow;
import dev.starspec.udfs.OutputStats;
import java.util.List;

/** Runs one decoder over fixed prompts, one at a time: warm-up runs, then measured runs, reported as medians. */
public final class Benchmark {

    private final List<Problem> problems;
    private final int promptTokens;
    private final int newTokens;
    private final int warmup;
    private final int runs;
    private final Sampling sampling;

    /** @param sampling greedy, or sampled (run i with seed i, so every configuration sees the same draws) */
    public Benchmark(List<Problem> problems, int promptTokens, int newTokens, int warmup, int runs, Sampling sampling) {
        this.problems = problems;
        this.promptTokens = promptTokens;
        this.newTokens = newTokens;
        this.warmup = warmup;
        this.runs = runs;
        this.sampling = sampling;
    }

    /**
     * Memory bandwidth on a shared machine moves between regimes (measured here: ~47 and ~80 GB/s, minutes
     * apart), so the floor is measured right before every run and each run is compared with its own floor.
     */
    public BenchResult run(Decoder decoder, java.util.function.DoubleSupplier bandwidth) {
        Model target = decoder.target();
        List<String> prompts = BenchPrompts.make(target.tokenizer(), problems, promptTokens, warmup + runs);
        long bytes = target.artifact().manifest().quantization().parameters().path("decode_bytes_per_token").asLong();
        OutputStats stats = new OutputStats();
        double[] gbs = new double[runs];
        double[] ratio = new double[runs];
        long passes = 0;
        long draftPasses = 0;
        int promptSeen = 0;
        for (int i = 0; i < warmup + runs; i++) {
            double bw = i >= warmup ? bandwidth.getAsDouble() : 0;
            Sampling s = new Sampling(sampling.temperature(), sampling.topP(), sampling.topK(), i);
            Generation g = decoder.generate(new GenerationRequest(prompts.get(i), newTokens, List.of(), s));
            if (i < warmup) {
                continue;
            }
            int r = i - warmup;
            stats.add(OutputRow.of(null, prompts.get(i), g, decoder.targetId(), decoder.draftId(), 0));
            gbs[r] = bw;
            double passMs = g.targetPasses() == 0 ? g.tpotMs() : g.tpotMs() * (g.completionTokens() - 1) / g.targetPasses();
            ratio[r] = passMs / (bytes / (bw * 1e9) * 1e3);
            promptSeen = g.promptTokens();
            passes += g.targetPasses();
            draftPasses += g.draft() == null ? 0 : g.draft().draftPasses();
        }
        long generated = stats.completionTokens();
        return new BenchResult(decoder.targetId(), decoder.draftId(), promptSeen, generated / (double) runs,
                stats.ttftMs().median(), stats.ttftMs().quantile(0), stats.ttftMs().quantile(1), stats.tpotMs().median(), bytes, OutputStats.Distribution.of(gbs).median(),
                OutputStats.Distribution.of(ratio).median(), stats.acceptance(),
                passes == 0 ? Double.NaN : (generated - runs) / (double) passes,
                passes == 0 ? Double.NaN : stats.proposed() / (double) passes,
                passes == 0 ? Double.NaN : draftPasses / (double) passes, PeakMemory.residentBytes());
    }
}
