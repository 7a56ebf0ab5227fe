package dev.starspec.job.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import dev.starspec.udfs.InputRow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Prompts from where users keep them, as rows of {@link InputRow#SCHEMA}:
 * <ul>
 *   <li>JSONL ({@code id}, {@code prompt}, optional {@code max_new_tokens}, {@code temperature}, {@code stop});
 *       a line without an id gets one from its prompt's hash; a malformed line becomes an error row
 *   <li>Parquet with the same columns
 *   <li>HumanEval ({@code task_id}, {@code prompt}; .jsonl or .jsonl.gz): prompts stripped as bigcode's harness does
 *   <li>a source tree: every Python function and class, see {@link RepoPrompts}
 * </ul>
 */
public final class PromptSource {

    public enum Kind { JSONL, PARQUET, HUMANEVAL, REPO }

    private static final StructType JSON_SCHEMA = InputRow.SCHEMA
            .add("task_id", DataTypes.StringType, true)
            .add("_corrupt_record", DataTypes.StringType, true);

    private PromptSource() {}

    public static Kind detect(String input, String kind) {
        if (kind != null && !kind.equals("auto")) {
            return Kind.valueOf(kind.toUpperCase(Locale.ROOT));
        }
        String name = input.toLowerCase(Locale.ROOT);
        if (name.endsWith(".parquet") || isParquetFolder(input)) {
            return Kind.PARQUET;
        }
        if (name.contains("humaneval") && (name.endsWith(".jsonl") || name.endsWith(".jsonl.gz"))) {
            return Kind.HUMANEVAL;
        }
        if (!name.contains("://") && Files.isDirectory(Path.of(input))) {
            return Kind.REPO;
        }
        return Kind.JSONL;
    }

    private static boolean isParquetFolder(String input) {
        if (input.contains("://") || !Files.isDirectory(Path.of(input))) {
            return false;
        }
        try (var s = Files.list(Path.of(input))) {
            return s.anyMatch(p -> p.toString().endsWith(".parquet"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    public static Dataset<Row> read(SparkSession spark, String input, Kind kind, boolean fim) {
        return switch (kind) {
            case JSONL -> fromJson(spark.read().schema(JSON_SCHEMA).option("mode", "PERMISSIVE").json(input));
            case HUMANEVAL -> spark.read().schema(JSON_SCHEMA).json(input).select(
                    col("task_id").as("id"), trim(col("prompt"), " \t\n\r").as("prompt"),
                    lit(null).cast(DataTypes.IntegerType).as("max_new_tokens"),
                    lit(null).cast(DataTypes.DoubleType).as("temperature"),
                    lit(null).cast(InputRow.SCHEMA.apply("stop").dataType()).as("stop"));
            case PARQUET -> conform(spark.read().parquet(input));
            case REPO -> {
                List<Row> rows = new ArrayList<>();
                for (RepoPrompts.Prompt p : RepoPrompts.scan(Path.of(input), fim)) {
                    rows.add(RowFactory.create(p.id(), p.prompt(), null, null, null));
                }
                yield spark.createDataFrame(rows, InputRow.SCHEMA);
            }
        };
    }

    private static Dataset<Row> fromJson(Dataset<Row> raw) {
        Column corrupt = col("_corrupt_record").isNotNull();
        Column id = when(corrupt, concat(lit("malformed-line:"), sha2(col("_corrupt_record"), 256).substr(1, 16)))
                .when(col("id").isNotNull(), col("id"))
                .when(col("task_id").isNotNull(), col("task_id"))
                .otherwise(concat(lit("sha256:"), sha2(col("prompt"), 256).substr(1, 16)));
        return raw.select(id.as("id"), when(corrupt, lit(null)).otherwise(col("prompt")).as("prompt"),
                col("max_new_tokens"), col("temperature"), col("stop"));
    }

    /** A Parquet input with at least id and prompt; optional columns are added as nulls when absent. */
    private static Dataset<Row> conform(Dataset<Row> df) {
        List<String> have = Arrays.asList(df.columns());
        if (!have.contains("id") || !have.contains("prompt")) {
            throw new IllegalArgumentException("Parquet input needs columns id and prompt; it has " + have);
        }
        Column[] cols = Arrays.stream(InputRow.SCHEMA.fields())
                .map(f -> (have.contains(f.name()) ? col(f.name()) : lit(null)).cast(f.dataType()).as(f.name()))
                .toArray(Column[]::new);
        return df.select(cols);
    }
}
