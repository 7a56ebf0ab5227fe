package dev.starspec.udfs;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What the job feeds the generation function: a prompt, its id, and optional per-row settings.
 *
 * @param maxNewTokens, temperature, stop null: the job's defaults
 * @param language the prompt's programming language when known ({@code python}, {@code rust}, ...), carried to the
 *     output row
 * @param error why the input could not be read as a prompt (then {@code prompt} holds the raw input); null when it
 *     could
 */
public record InputRow(String id, String prompt, Integer maxNewTokens, Double temperature, List<String> stop,
                       String language, String error) {

    public InputRow(String id, String prompt, Integer maxNewTokens, Double temperature, List<String> stop) {
        this(id, prompt, maxNewTokens, temperature, stop, null, null);
    }

    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.StringType, true),
        DataTypes.createStructField("prompt", DataTypes.StringType, true),
        DataTypes.createStructField("max_new_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("temperature", DataTypes.DoubleType, true),
        DataTypes.createStructField("stop", DataTypes.createArrayType(DataTypes.StringType, true), true),
        DataTypes.createStructField("language", DataTypes.StringType, true),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    /** A Spark row of {@link #SCHEMA}: read by field name, or in the schema's order when the row carries none. */
    public static InputRow of(Row r) {
        StructType schema = r.schema() != null ? r.schema() : SCHEMA;
        int stop = schema.fieldIndex("stop");
        return new InputRow((String) r.get(schema.fieldIndex("id")), (String) r.get(schema.fieldIndex("prompt")),
                (Integer) r.get(schema.fieldIndex("max_new_tokens")), (Double) r.get(schema.fieldIndex("temperature")),
                r.isNullAt(stop) ? null : r.getList(stop), optional(r, schema, "language"), optional(r, schema, "error"));
    }

    /** A column that rows made before it existed lack. */
    private static String optional(Row r, StructType schema, String name) {
        int at = java.util.Arrays.asList(schema.fieldNames()).indexOf(name);
        return at >= 0 && at < r.size() ? (String) r.get(at) : null;
    }

    /** The Spark row, in {@link #SCHEMA}'s order. */
    public Row toRow() {
        return RowFactory.create(id, prompt, maxNewTokens, temperature,
                stop == null ? null : scala.jdk.javaapi.CollectionConverters.asScala(stop).toSeq(), language, error);
    }
}
