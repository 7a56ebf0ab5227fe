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
 * @param error why the input could not be read as a prompt (then {@code prompt} holds the raw input); null when it
 *     could
 */
public record InputRow(String id, String prompt, Integer maxNewTokens, Double temperature, List<String> stop,
                       String error) {

    public InputRow(String id, String prompt, Integer maxNewTokens, Double temperature, List<String> stop) {
        this(id, prompt, maxNewTokens, temperature, stop, null);
    }

    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.StringType, true),
        DataTypes.createStructField("prompt", DataTypes.StringType, true),
        DataTypes.createStructField("max_new_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("temperature", DataTypes.DoubleType, true),
        DataTypes.createStructField("stop", DataTypes.createArrayType(DataTypes.StringType, true), true),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    /** A Spark row of {@link #SCHEMA}: read by field name, or in the schema's order when the row carries none. */
    public static InputRow of(Row r) {
        StructType schema = r.schema() != null ? r.schema() : SCHEMA;
        int stop = schema.fieldIndex("stop");
        int error = java.util.Arrays.asList(schema.fieldNames()).indexOf("error"); // older inputs have none
        return new InputRow((String) r.get(schema.fieldIndex("id")), (String) r.get(schema.fieldIndex("prompt")),
                (Integer) r.get(schema.fieldIndex("max_new_tokens")), (Double) r.get(schema.fieldIndex("temperature")),
                r.isNullAt(stop) ? null : r.getList(stop), error < 0 ? null : (String) r.get(error));
    }

    /** The Spark row, in {@link #SCHEMA}'s order. */
    public Row toRow() {
        return RowFactory.create(id, prompt, maxNewTokens, temperature,
                stop == null ? null : scala.jdk.javaapi.CollectionConverters.asScala(stop).toSeq(), error);
    }
}
