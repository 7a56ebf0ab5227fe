package dev.starspec.job.bench;

import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Generation;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Sampling;
import dev.starspec.engine.runtime.Model;
import dev.starspec.job.humaneval.Problem;
import java.util.Arrays;
import java.util.List;

/** Runs one decoder over fixed prompts: warm-up runs, then measured runs, reported as medians. */
public final class Benchmark {

    private final List<Problem> problems;
    private final int promptTokens;
    private final int newTokens;
    private final int warmup;
    private final int runs;

    public Benchmark(List<Problem> problems, int promptTokens, int newTokens, int warmup, int runs) {
        this.problems = problems;
        this.promptTokens = promptTokens;
        this.newTokens = newTokens;
        this.warmup = warmup;
        this.runs = runs;
    }

    /**
     * Memory bandwidth on a shared machine moves between regimes (measured here: ~47 and ~80 GB/s, minutes
     * apart), so the floor is measured right before every run and each run is compared with its own floor.
     */
    public BenchResult run(Decoder decoder, Model target, java.util.function.DoubleSupplier bandwidth) {
        List<String> prompts = BenchPrompts.make(target.tokenizer(), problems, promptTokens, warmup + runs);
        double[] ttft = new double[runs];
        double[] tpot = new double[runs];
        double[] gbs = new double[runs];
        double[] ratio = new double[runs];
        long bytes = target.artifact().manifest().quantization().parameters().path("decode_bytes_per_token").asLong();
        long proposed = 0;
        long accepted = 0;
        long passes = 0;
        int generated = 0;
        int promptSeen = 0;
        for (int i = 0; i < warmup + runs; i++) {
            double bw = i >= warmup ? bandwidth.getAsDouble() : 0;
            Generation g = decoder.generate(new GenerationRequest(prompts.get(i), newTokens, List.of(), Sampling.GREEDY));
            if (i >= warmup) {
                int r = i - warmup;
                ttft[r] = g.ttftMs();
                tpot[r] = g.tpotMs();
                gbs[r] = bw;
                ratio[r] = g.tpotMs() / (bytes / (bw * 1e9) * 1e3);
                generated += g.completionTokens();
                promptSeen = g.promptTokens();
                if (g.draft() != null) {
                    proposed += g.draft().proposed();
                    accepted += g.draft().accepted();
                    passes += g.draft().targetPasses();
                } else {
                    passes += g.completionTokens() - 1;
                }
            }
        }
        return new BenchResult(decoder.targetId(), decoder.draftId(), promptSeen, generated / (double) runs,
                median(ttft), median(tpot), bytes, median(gbs), median(ratio),
                proposed == 0 ? Double.NaN : (double) accepted / proposed,
                passes == 0 ? Double.NaN : (generated - runs) / (double) passes, PeakMemory.residentBytes());
    }

    static double median(double[] values) {
        double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
