package dev.starspec.udfs;

import dev.starspec.engine.decode.DraftStats;
import dev.starspec.engine.decode.FinishReason;
import dev.starspec.engine.decode.Generation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The output row: one per prompt, in the column order of DESIGN.md; a failed prompt is a row with an error. */
public final class OutputRow {

    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.StringType, true),
        DataTypes.createStructField("prompt", DataTypes.StringType, true),
        DataTypes.createStructField("completion", DataTypes.StringType, true),
        DataTypes.createStructField("finish_reason", DataTypes.StringType, false),
        DataTypes.createStructField("prompt_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("completion_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("ttft_ms", DataTypes.DoubleType, true),
        DataTypes.createStructField("tpot_ms", DataTypes.DoubleType, true),
        DataTypes.createStructField("total_ms", DataTypes.DoubleType, true),
        DataTypes.createStructField("draft_tokens_proposed", DataTypes.LongType, true),
        DataTypes.createStructField("draft_tokens_accepted", DataTypes.LongType, true),
        DataTypes.createStructField("acceptance_rate", DataTypes.DoubleType, true),
        DataTypes.createStructField("target_passes", DataTypes.LongType, true),
        DataTypes.createStructField("model", DataTypes.StringType, true),
        DataTypes.createStructField("draft", DataTypes.StringType, true),
        DataTypes.createStructField("executor", DataTypes.StringType, false),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    private OutputRow() {}

    public static Row of(String id, String prompt, Generation g, String model, String draft) {
        DraftStats d = g.draft();
        return RowFactory.create(id, prompt, g.completion(), g.finishReason().label(), g.promptTokens(),
                g.completionTokens(), orNull(g.ttftMs()), orNull(g.tpotMs()), orNull(g.totalMs()),
                d == null ? null : d.proposed(), d == null ? null : d.accepted(),
                d == null ? null : orNull(d.acceptanceRate()), d == null ? (long) g.completionTokens() - 1 : d.targetPasses(),
                model, draft, ModelRegistry.executorId(), null);
    }

    /** A prompt that could not be completed: the reason in {@code error}, nothing lost. */
    public static Row failed(String id, String prompt, Throwable error, String model, String draft, double totalMs) {
        String message = error.getMessage() == null || error.getMessage().isBlank()
                ? error.getClass().getSimpleName() : error.getClass().getSimpleName() + ": " + error.getMessage();
        return RowFactory.create(id, prompt, null, FinishReason.ERROR.label(), null, null, null, null, totalMs,
                null, null, null, null, model, draft, ModelRegistry.executorId(), message);
    }

    private static Double orNull(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
