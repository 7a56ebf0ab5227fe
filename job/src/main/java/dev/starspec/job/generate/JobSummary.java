package dev.starspec.job.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.udfs.GeneratePartition;
import dev.starspec.udfs.OutputRow;
import dev.starspec.udfs.OutputStats;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The end-of-job report: the whole output (rows, errors, latency percentiles, acceptance) and this run (rows,
 * tokens, tokens/s, wall time against the time the partitions spent decoding, i.e. what Spark added).
 *
 * @param runDecodeSeconds wall time of all partitions of this run, from their first row to their last, summed
 * @param batchSize rows each task decoded at once ({@code auto} resolved per executor, as configured)
 * @param input what this run found wrong with the rows it read
 */
public record JobSummary(OutputStats output, long runRows, long runTokens, double runWallSeconds, double runDecodeSeconds,
                         int taskSlots, String model, String draft, String batchSize, InputCounts input) {

    /** The output's columns the figures need: reading the prompts and completions back would be wasted. */
    private static final String[] METRICS = {"id", "finish_reason", "completion_tokens", "ttft_ms", "tpot_ms", "total_ms",
        "draft_tokens_proposed", "draft_tokens_accepted", "model", "draft", "error", "queue_ms", "executor"};

    /** {@code model} and {@code draft} (locations) stand in when the output has no row naming them. */
    public static JobSummary of(Dataset<Row> output, GeneratePartition.Progress progress, double wallSeconds,
                                int taskSlots, String model, String draft, String batchSize, InputCounts input) {
        OutputStats stats = output.select(METRICS[0], java.util.Arrays.copyOfRange(METRICS, 1, METRICS.length))
                .javaRDD().mapPartitions((Iterator<Row> rows) -> {
                    OutputStats s = new OutputStats();
                    rows.forEachRemaining(r -> s.add(OutputRow.fromRow(r)));
                    return List.of(s).iterator();
                }).fold(new OutputStats(), OutputStats::merge);
        return new JobSummary(stats, progress.prompts().value(), progress.tokens().value(), wallSeconds,
                progress.generationMicros().value() / 1e6, taskSlots, stats.model() != null ? stats.model() : model,
                stats.model() != null ? stats.draft() : draft, batchSize, input);
    }

    public long rows() {
        return output.rows();
    }

    public long errors() {
        return output.errors();
    }

    /** Seconds Spark added beyond the partitions' decoding, spread over the task slots that ran at once. */
    public double sparkOverheadSeconds() {
        return runWallSeconds - runDecodeSeconds / taskSlots;
    }

    public ObjectNode toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("model", model);
        n.put("draft", draft);
        n.put("batch_size", batchSize);
        n.put("rows", output.rows());
        n.put("errors", output.errors());
        n.put("completion_tokens", output.completionTokens());
        putPercentiles(n.putObject("ttft_ms"), output.ttftMs());
        putPercentiles(n.putObject("tpot_ms"), output.tpotMs());
        putPercentiles(n.putObject("queue_ms"), output.queueMs());
        if (!Double.isNaN(output.acceptance())) {
            n.put("acceptance_rate", output.acceptance());
        }
        ObjectNode run = n.putObject("this_run");
        run.put("rows", runRows);
        run.put("tokens", runTokens);
        run.put("wall_seconds", runWallSeconds);
        run.put("tokens_per_second", runTokens / runWallSeconds);
        run.put("decode_seconds", runDecodeSeconds);
        run.put("task_slots", taskSlots);
        run.put("spark_overhead_seconds", sparkOverheadSeconds());
        run.put("malformed_rows", input.malformed());
        run.put("duplicate_ids", input.duplicateIds());
        run.put("rows_with_duplicate_ids", input.rowsWithDuplicateIds());
        if (!input.duplicateExamples().isEmpty()) {
            var examples = run.putArray("duplicate_id_examples");
            input.duplicateExamples().forEach(examples::add);
        }
        return n;
    }

    private static void putPercentiles(ObjectNode n, OutputStats.Distribution d) {
        n.put("p50", d.quantile(0.5));
        n.put("p90", d.quantile(0.9));
        n.put("p99", d.quantile(0.99));
    }

    @Override
    public String toString() {
        OutputStats.Distribution ttft = output.ttftMs();
        OutputStats.Distribution tpot = output.tpotMs();
        return String.format("%d rows (%d errors), %d completion tokens; TTFT p50/p90/p99 %.1f/%.1f/%.1f ms, "
                        + "TPOT p50/p90/p99 %.2f/%.2f/%.2f ms, queue p90 %.1f ms%s%nthis run: %d rows, %d tokens in %.1f s "
                        + "(%.1f tokens/s, batch %s); partitions decoding %.1f s over %d task slot(s), Spark overhead %.1f s; "
                        + "input: %d malformed row(s), %d duplicated id(s)",
                output.rows(), output.errors(), output.completionTokens(), ttft.quantile(0.5), ttft.quantile(0.9),
                ttft.quantile(0.99), tpot.quantile(0.5), tpot.quantile(0.9), tpot.quantile(0.99), output.queueMs().quantile(0.9),
                Double.isNaN(output.acceptance()) ? "" : String.format(", draft acceptance %.1f%%", 100 * output.acceptance()),
                runRows, runTokens, runWallSeconds, runTokens / runWallSeconds, batchSize, runDecodeSeconds, taskSlots,
                sparkOverheadSeconds(), input.malformed(), input.duplicateIds());
    }
}
