package dev.starspec.job.generate;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.udfs.GeneratePartition;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The end-of-job report: the whole output (rows, errors, latency percentiles, acceptance) and this run (rows,
 * tokens, tokens/s, wall time against the engine's own generation time, i.e. what Spark added).
 */
public record JobSummary(long rows, long errors, long completionTokens, double[] ttftMs, double[] tpotMs,
                         double acceptanceRate, long runRows, long runTokens, double runWallSeconds,
                         double runGenerationSeconds, int taskSlots, String model, String draft) {

    /** {@code model} and {@code draft} (locations) stand in when the output has no row naming them. */
    public static JobSummary of(Dataset<Row> output, GeneratePartition.Progress progress, double wallSeconds,
                                int taskSlots, String model, String draft) {
        Row r = output.agg(
                count(lit(1)),
                sum(when(col("error").isNotNull(), 1).otherwise(0)),
                sum(col("completion_tokens")),
                percentile_approx(col("ttft_ms"), array(lit(0.5), lit(0.9), lit(0.99)), lit(10000)),
                percentile_approx(col("tpot_ms"), array(lit(0.5), lit(0.9), lit(0.99)), lit(10000)),
                sum(col("draft_tokens_accepted")),
                sum(col("draft_tokens_proposed")),
                first(col("model"), true),
                first(col("draft"), true)).first();
        long proposed = r.isNullAt(6) ? 0 : r.getLong(6);
        return new JobSummary(r.getLong(0), r.isNullAt(1) ? 0 : r.getLong(1), r.isNullAt(2) ? 0 : r.getLong(2),
                percentiles(r, 3), percentiles(r, 4), proposed == 0 ? Double.NaN : (double) r.getLong(5) / proposed,
                progress.prompts().value(), progress.tokens().value(), wallSeconds,
                progress.generationMicros().value() / 1e6, taskSlots,
                r.isNullAt(7) ? model : r.getString(7), r.isNullAt(8) ? draft : r.getString(8));
    }

    private static double[] percentiles(Row r, int i) {
        if (r.isNullAt(i)) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
        List<Double> p = r.getList(i);
        return new double[] {p.get(0), p.get(1), p.get(2)};
    }

    /** Seconds Spark added beyond the engine's generation time, spread over the task slots that ran at once. */
    public double sparkOverheadSeconds() {
        return runWallSeconds - runGenerationSeconds / taskSlots;
    }

    public ObjectNode toJson() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode n = m.createObjectNode();
        n.put("model", model);
        n.put("draft", draft);
        n.put("rows", rows);
        n.put("errors", errors);
        n.put("completion_tokens", completionTokens);
        putPercentiles(n.putObject("ttft_ms"), ttftMs);
        putPercentiles(n.putObject("tpot_ms"), tpotMs);
        if (!Double.isNaN(acceptanceRate)) {
            n.put("acceptance_rate", acceptanceRate);
        }
        ObjectNode run = n.putObject("this_run");
        run.put("rows", runRows);
        run.put("tokens", runTokens);
        run.put("wall_seconds", runWallSeconds);
        run.put("tokens_per_second", runTokens / runWallSeconds);
        run.put("generation_seconds", runGenerationSeconds);
        run.put("task_slots", taskSlots);
        run.put("spark_overhead_seconds", sparkOverheadSeconds());
        return n;
    }

    private static void putPercentiles(ObjectNode n, double[] p) {
        n.put("p50", p[0]);
        n.put("p90", p[1]);
        n.put("p99", p[2]);
    }

    @Override
    public String toString() {
        return String.format("%d rows (%d errors), %d completion tokens; TTFT p50/p90/p99 %.1f/%.1f/%.1f ms, "
                        + "TPOT p50/p90/p99 %.2f/%.2f/%.2f ms%s%nthis run: %d rows, %d tokens in %.1f s (%.1f tokens/s); "
                        + "engine generation time %.1f s over %d task slot(s), Spark overhead %.1f s",
                rows, errors, completionTokens, ttftMs[0], ttftMs[1], ttftMs[2], tpotMs[0], tpotMs[1], tpotMs[2],
                Double.isNaN(acceptanceRate) ? "" : String.format(", draft acceptance %.1f%%", 100 * acceptanceRate),
                runRows, runTokens, runWallSeconds, runTokens / runWallSeconds, runGenerationSeconds, taskSlots,
                sparkOverheadSeconds());
    }
}
