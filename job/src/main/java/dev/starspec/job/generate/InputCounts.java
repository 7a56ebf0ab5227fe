package dev.starspec.job.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What a run found wrong with its input before generating: rows that could not be read as prompts, and ids given
 * to more than one row (all are generated, but {@code --mode resume} and any join on id cannot tell them apart).
 *
 * @param duplicateExamples a few of the duplicated ids, to find them by
 */
public record InputCounts(long rows, long malformed, long duplicateIds, long rowsWithDuplicateIds,
                          List<String> duplicateExamples) {

    private static final int EXAMPLES = 5;

    /** Counts over rows of {@link dev.starspec.udfs.InputRow#SCHEMA}: one aggregation, a second only for examples. */
    public static InputCounts of(Dataset<Row> prompts) {
        Dataset<Row> perId = prompts.groupBy(col("id")).agg(count(lit(1)).as("n"),
                sum(when(col("error").isNotNull(), 1).otherwise(0)).as("bad"));
        Row t = perId.agg(sum("n"), sum("bad"), sum(when(col("n").gt(1), 1).otherwise(0)),
                sum(when(col("n").gt(1), col("n")).otherwise(0))).first();
        long duplicated = t.isNullAt(2) ? 0 : t.getLong(2);
        List<String> examples = duplicated == 0 ? List.of() : perId.where(col("n").gt(1)).select("id").limit(EXAMPLES)
                .collectAsList().stream().map(r -> r.isNullAt(0) ? "null" : r.getString(0)).sorted().toList();
        return new InputCounts(t.isNullAt(0) ? 0 : t.getLong(0), t.isNullAt(1) ? 0 : t.getLong(1), duplicated,
                t.isNullAt(3) ? 0 : t.getLong(3), examples);
    }

    /** The warning to print, or null when every id is unique. */
    public String duplicateWarning() {
        if (duplicateIds == 0) {
            return null;
        }
        return String.format("starspec: warning: %d id(s) name more than one row (%d rows in all), for example %s; "
                + "each row is generated, but --mode resume and joins on id cannot tell them apart", duplicateIds,
                rowsWithDuplicateIds, String.join(", ", duplicateExamples));
    }
}
