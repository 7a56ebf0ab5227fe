package dev.starspec.udfs;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** What the job feeds the generation function: a prompt, its id, and optional per-row settings. */
public final class InputRow {

    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.StringType, true),
        DataTypes.createStructField("prompt", DataTypes.StringType, true),
        DataTypes.createStructField("max_new_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("temperature", DataTypes.DoubleType, true),
        DataTypes.createStructField("stop", DataTypes.createArrayType(DataTypes.StringType, true), true),
    });

    private InputRow() {}

    static String id(Row r) {
        return r.getString(0);
    }

    static String prompt(Row r) {
        return r.getString(1);
    }

    static Integer maxNewTokens(Row r) {
        return r.isNullAt(2) ? null : r.getInt(2);
    }

    static Double temperature(Row r) {
        return r.isNullAt(3) ? null : r.getDouble(3);
    }

    static List<String> stop(Row r) {
        return r.isNullAt(4) ? null : r.getList(4);
    }
}
