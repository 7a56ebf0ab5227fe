package dev.starspec.job.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Decoding;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Outcome;
import dev.starspec.engine.decode.Submission;
import dev.starspec.udfs.OutputRow;
import dev.starspec.udfs.OutputStats;
import java.util.ArrayList;
import java.util.List;

/**
 * A bulk job in miniature: many prompts through one decoder, as a Spark task decodes its partition. Tokens per
 * second of the whole run (all rows' generated tokens over the wall time, prompts included) and each row's
 * latency.
 */
public final class Throughput {

    /** One configuration's runs. */
    public record Result(String label, int batch, String draft, String k, OutputStats.Distribution tokensPerS,
                         double tpotMs, double ttftMs, double acceptance, double meanWindow) {

        public static final String HEADER = String.format("%-30s %6s %9s %12s %9s %9s %8s %11s %8s",
                "configuration", "batch", "K", "tokens/s", "spread", "TPOT ms", "TTFT ms", "acceptance", "window");

        public String row(double baseline) {
            return String.format("%-30s %6d %9s %12.1f %8.0f%% %9.2f %8.1f %11s %8.2f   %.2fx", label, batch, k,
                    tokensPerS.median(), 100 * (tokensPerS.quantile(1) - tokensPerS.quantile(0)) / tokensPerS.median(),
                    tpotMs, ttftMs, Double.isNaN(acceptance) ? "-" : String.format("%.1f%%", 100 * acceptance),
                    meanWindow, tokensPerS.median() / baseline);
        }

        public ObjectNode json(double baseline) {
            ObjectNode n = new ObjectMapper().createObjectNode();
            n.put("configuration", label);
            n.put("batch", batch);
            n.put("draft", draft);
            n.put("k", k);
            n.put("tokens_per_s", tokensPerS.median());
            n.put("tokens_per_s_min", tokensPerS.quantile(0));
            n.put("tokens_per_s_max", tokensPerS.quantile(1));
            n.put("runs", tokensPerS.count());
            n.put("tpot_ms", tpotMs);
            n.put("ttft_ms", ttftMs);
            if (!Double.isNaN(acceptance)) {
                n.put("acceptance_rate", acceptance);
            }
            n.put("mean_window", meanWindow);
            n.put("speedup", tokensPerS.median() / baseline);
            return n;
        }
    }

    private final List<GenerationRequest> requests;

    public Throughput(List<GenerationRequest> requests) {
        this.requests = requests;
    }

    /** One run: every request through the decoder; its rows and its tokens per second. */
    public Run run(Decoder decoder) {
        List<Submission<Integer>> in = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            in.add(Submission.now(i, requests.get(i)));
        }
        OutputStats stats = new OutputStats();
        long passes = 0;
        long start = System.nanoTime();
        try (Decoding<Integer> d = decoder.decode(in.iterator())) {
            while (d.hasNext()) {
                Outcome<Integer> o = d.next();
                if (o.failed()) {
                    throw new IllegalStateException("bench prompt " + o.key() + " failed: " + o.error().getMessage(), o.error());
                }
                stats.add(OutputRow.of(null, null, o.generation(), decoder.targetId(), decoder.draftId(), o.queueMs()));
                passes += o.generation().targetPasses();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Run(stats, stats.completionTokens() / seconds, passes);
    }

    /** @param targetPasses the rows' verification passes (a row's share of each batched pass counts once) */
    public record Run(OutputStats stats, double tokensPerS, long targetPasses) {

        /** Tokens a row's window held per pass: 1 plus its proposals. */
        public double meanWindow() {
            return targetPasses == 0 ? 1 : 1 + stats.proposed() / (double) targetPasses;
        }
    }
}
