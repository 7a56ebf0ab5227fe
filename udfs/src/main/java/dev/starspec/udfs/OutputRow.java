package dev.starspec.udfs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.decode.DraftStats;
import dev.starspec.engine.decode.FinishReason;
import dev.starspec.engine.decode.Generation;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The output row: one per prompt, in the column order of {@link #COLUMNS} (the README's output table); a failed
 * prompt is a row with an error. The Spark schema, the Spark row, the JSON of {@code complete} and every statistic
 * ({@link OutputStats}) derive from this one record and its column list.
 *
 * @param ttftMs admission (before tokenization) to first token
 * @param tpotMs the row's own time per output token after the first
 * @param totalMs admission to done
 * @param queueMs read to admission: waiting for a free row of the batch or for cache memory
 * @param language the prompt's programming language, when the input said or the source tree showed
 */
public record OutputRow(String id, String prompt, String completion, String finishReason, Integer promptTokens,
                        Integer completionTokens, Double ttftMs, Double tpotMs, Double totalMs, Long draftTokensProposed,
                        Long draftTokensAccepted, Double acceptanceRate, Long targetPasses, String model, String draft,
                        String executor, String error, Double queueMs, String language) {

    /** A column: its name, Spark type, and where the record keeps it. */
    private record Column(String name, DataType type, boolean nullable, Function<OutputRow, Object> value) {}

    private static final List<Column> COLUMNS = List.of(
            new Column("id", DataTypes.StringType, true, OutputRow::id),
            new Column("prompt", DataTypes.StringType, true, OutputRow::prompt),
            new Column("completion", DataTypes.StringType, true, OutputRow::completion),
            new Column("finish_reason", DataTypes.StringType, false, OutputRow::finishReason),
            new Column("prompt_tokens", DataTypes.IntegerType, true, OutputRow::promptTokens),
            new Column("completion_tokens", DataTypes.IntegerType, true, OutputRow::completionTokens),
            new Column("ttft_ms", DataTypes.DoubleType, true, OutputRow::ttftMs),
            new Column("tpot_ms", DataTypes.DoubleType, true, OutputRow::tpotMs),
            new Column("total_ms", DataTypes.DoubleType, true, OutputRow::totalMs),
            new Column("draft_tokens_proposed", DataTypes.LongType, true, OutputRow::draftTokensProposed),
            new Column("draft_tokens_accepted", DataTypes.LongType, true, OutputRow::draftTokensAccepted),
            new Column("acceptance_rate", DataTypes.DoubleType, true, OutputRow::acceptanceRate),
            new Column("target_passes", DataTypes.LongType, true, OutputRow::targetPasses),
            new Column("model", DataTypes.StringType, true, OutputRow::model),
            new Column("draft", DataTypes.StringType, true, OutputRow::draft),
            new Column("executor", DataTypes.StringType, false, OutputRow::executor),
            new Column("error", DataTypes.StringType, true, OutputRow::error),
            new Column("queue_ms", DataTypes.DoubleType, true, OutputRow::queueMs),
            new Column("language", DataTypes.StringType, true, OutputRow::language));

    public static final StructType SCHEMA = new StructType(COLUMNS.stream()
            .map(c -> DataTypes.createStructField(c.name(), c.type(), c.nullable())).toArray(StructField[]::new));

    /** The row of a generation. */
    public static OutputRow of(String id, String prompt, Generation g, String model, String draft, double queueMs) {
        DraftStats d = g.draft();
        return new OutputRow(id, prompt, g.completion(), g.finishReason().label(), g.promptTokens(), g.completionTokens(),
                orNull(g.ttftMs()), orNull(g.tpotMs()), orNull(g.totalMs()), d == null ? null : d.proposed(),
                d == null ? null : d.accepted(), d == null ? null : orNull(d.acceptanceRate()), g.targetPasses(),
                model, draft, ModelRegistry.executorId(), null, queueMs, null);
    }

    /** A prompt that could not be completed: the reason in {@code error}, nothing lost. */
    public static OutputRow failed(String id, String prompt, Throwable error, String model, String draft, double queueMs,
                                   double totalMs) {
        String message = error.getMessage() == null || error.getMessage().isBlank()
                ? error.getClass().getSimpleName() : error.getClass().getSimpleName() + ": " + error.getMessage();
        return failed(id, prompt, message, model, draft, queueMs, totalMs);
    }

    /** A prompt that could not be completed, for the reason {@code error} says. */
    public static OutputRow failed(String id, String prompt, String error, String model, String draft, double queueMs,
                                   double totalMs) {
        return new OutputRow(id, prompt, null, FinishReason.ERROR.label(), null, null, null, null, totalMs, null, null,
                null, null, model, draft, ModelRegistry.executorId(), error, queueMs, null);
    }

    public OutputRow withLanguage(String language) {
        return new OutputRow(id, prompt, completion, finishReason, promptTokens, completionTokens, ttftMs, tpotMs, totalMs,
                draftTokensProposed, draftTokensAccepted, acceptanceRate, targetPasses, model, draft, executor, error,
                queueMs, language);
    }

    public boolean failed() {
        return error != null;
    }

    /** The Spark row, in {@link #SCHEMA}'s order. */
    public Row toRow() {
        return RowFactory.create(COLUMNS.stream().map(c -> c.value().apply(this)).toArray());
    }

    /**
     * A row read back from the output, by column name; columns the row lacks (a projection of the output, say)
     * are null.
     */
    public static OutputRow fromRow(Row r) {
        Object[] v = new Object[COLUMNS.size()];
        for (int i = 0; i < v.length; i++) {
            String name = COLUMNS.get(i).name();
            int at = r.schema() == null ? i : indexOf(r.schema(), name); // without a schema: this record's order
            v[i] = at < 0 || r.isNullAt(at) ? null : r.get(at);
        }
        return new OutputRow((String) v[0], (String) v[1], (String) v[2], (String) v[3], (Integer) v[4], (Integer) v[5],
                (Double) v[6], (Double) v[7], (Double) v[8], (Long) v[9], (Long) v[10], (Double) v[11], (Long) v[12],
                (String) v[13], (String) v[14], (String) v[15], (String) v[16], (Double) v[17], (String) v[18]);
    }

    private static int indexOf(StructType schema, String name) {
        String[] names = schema.fieldNames();
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** The row as JSON, one field per column (nulls left out). */
    public ObjectNode toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        for (Column c : COLUMNS) {
            Object value = c.value().apply(this);
            if (value != null) {
                n.putPOJO(c.name(), value);
            }
        }
        return n;
    }

    private static Double orNull(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
