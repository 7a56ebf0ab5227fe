package dev.starspec.job.generate;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.trim;

import dev.starspec.job.repo.RepoPrompts;
import dev.starspec.job.repo.SourceTree;
import dev.starspec.udfs.InputRow;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Prompts from where users keep them, as rows of {@link InputRow#SCHEMA}:
 * <ul>
 *   <li>JSONL, a file or a folder of them, gzipped or not: one row per non-blank line, see {@link JsonlPrompts}
 *   <li>Parquet with the same columns
 *   <li>HumanEval ({@code task_id}, {@code prompt}; .jsonl or .jsonl.gz): prompts stripped as bigcode's harness does
 *   <li>a source tree: every function, method and class in eight languages, see {@link RepoPrompts}; a folder, or
 *       with {@code revision} a revision of a git repository (bare or not), read without a checkout
 * </ul>
 *
 * @param fim source trees: fill-in-the-middle prompts
 * @param revision source trees: the git revision to read (null: the folder as it is on disk)
 */
public record PromptSource(String location, Kind kind, boolean fim, String revision) {

    public enum Kind { JSONL, PARQUET, HUMANEVAL, REPO }

    /** A file of prompts (JSONL, Parquet, HumanEval). */
    public static PromptSource of(String location, Kind kind) {
        return new PromptSource(location, kind, false, null);
    }

    /** The kind of input at {@code input}, unless {@code kind} names one. */
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

    /** The prompts as rows of {@link InputRow#SCHEMA}; what a source tree scan found and skipped goes to the log. */
    public Dataset<Row> read(SparkSession spark, Consumer<String> log) {
        return switch (kind) {
            case JSONL -> jsonl(spark, location);
            // The same line reader as JSONL (task_id is an id there), so a damaged line is an error row, not nulls.
            case HUMANEVAL -> jsonl(spark, location)
                    .withColumn("prompt", when(col("error").isNull(), trim(col("prompt"), " \t\n\r")).otherwise(col("prompt")))
                    .withColumn("language", coalesce(col("language"), lit("python")));
            case PARQUET -> conform(spark.read().parquet(location));
            case REPO -> {
                Path at = Path.of(location);
                SourceTree tree = revision != null ? SourceTree.revision(at, revision)
                        : SourceTree.isGitDirectory(at) ? SourceTree.revision(at, "HEAD") : SourceTree.folder(at);
                RepoPrompts.Scan scan = RepoPrompts.scan(tree, fim);
                log.accept("starspec: " + location + (revision != null ? " at " + revision : "") + ": " + scan);
                List<Row> rows = new ArrayList<>();
                for (RepoPrompts.Prompt p : scan.prompts()) {
                    rows.add(new InputRow(p.id(), p.prompt(), null, null, null, p.language(), null).toRow());
                }
                yield spark.createDataFrame(rows, InputRow.SCHEMA);
            }
        };
    }

    /**
     * Each file is read whole by one task, line by line, so that every row knows its line number (Spark's text and
     * JSON readers split files and lose it) and its raw bytes (to report invalid UTF-8 rather than replace it).
     */
    private static Dataset<Row> jsonl(SparkSession spark, String input) {
        boolean severalFiles = !isOneFile(spark, input);
        JavaRDD<Row> rows = spark.sparkContext().binaryFiles(input, spark.sparkContext().defaultMinPartitions())
                .toJavaRDD().flatMap(file -> {
                    String name = new org.apache.hadoop.fs.Path(file._1()).getName();
                    InputStream in = file._2().open();
                    InputStream text = name.endsWith(".gz") ? new GZIPInputStream(in, 1 << 16) : in;
                    JsonlPrompts lines = new JsonlPrompts(text, name, severalFiles);
                    return new Iterator<Row>() {
                        @Override
                        public boolean hasNext() {
                            boolean more = lines.hasNext();
                            if (!more) {
                                close(text);
                            }
                            return more;
                        }

                        @Override
                        public Row next() {
                            return lines.next().toRow();
                        }
                    };
                });
        return spark.createDataFrame(rows, InputRow.SCHEMA);
    }

    private static boolean isOneFile(SparkSession spark, String input) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(input);
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus[] matches = fs.globStatus(p);
            if (matches == null || matches.length == 0) {
                throw new IllegalArgumentException("no input at " + input);
            }
            return matches.length == 1 && matches[0].isFile();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + input + ": " + e.getMessage(), e);
        }
    }

    private static void close(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // everything was read
        }
    }

    /**
     * An input with at least id and prompt; optional columns are added as nulls when absent. A value of the wrong
     * type (a string where {@code max_new_tokens} is a number, say) makes its row an error row naming the column
     * and the value, rather than a failed job (Spark's ANSI casts throw) or a silent null. An {@code error}
     * column is not taken over: a previous run's output fed back as input is prompts to generate again.
     */
    private static Dataset<Row> conform(Dataset<Row> df) {
        List<String> have = Arrays.stream(df.columns()).filter(c -> !c.equals("error")).toList();
        if (!have.contains("id") || !have.contains("prompt")) {
            throw new IllegalArgumentException("Parquet input needs columns id and prompt; it has " + have);
        }
        List<Column> cols = new ArrayList<>();
        Column error = lit(null).cast(DataTypes.StringType);
        for (StructField f : InputRow.SCHEMA.fields()) {
            String name = f.name();
            if (name.equals("error")) {
                continue;
            }
            if (!have.contains(name)) {
                cols.add(lit(null).cast(f.dataType()).as(name));
                continue;
            }
            DataType from = df.schema().apply(name).dataType();
            if (from.equals(f.dataType()) || f.dataType().equals(DataTypes.StringType)
                    || f.dataType() instanceof ArrayType && from instanceof ArrayType) {
                cols.add(col(name).cast(f.dataType()).as(name));
                continue;
            }
            boolean complex = from instanceof ArrayType || from instanceof StructType || from instanceof MapType;
            Column converted = complex || f.dataType() instanceof ArrayType ? lit(null).cast(f.dataType())
                    : col(name).try_cast(f.dataType());
            Column wrong = col(name).isNotNull().and(converted.isNull());
            Column shown = from.equals(DataTypes.StringType) ? concat(lit("\""), col(name), lit("\""))
                    : complex ? lit("a " + from.typeName()) : col(name).cast(DataTypes.StringType);
            error = coalesce(error, when(wrong, concat(lit(name + ": expected " + expected(f.dataType()) + ", got "),
                    shown)));
            cols.add(when(wrong, lit(null)).otherwise(converted).cast(f.dataType()).as(name));
        }
        cols.add(error.as("error"));
        return df.select(cols.toArray(Column[]::new));
    }

    private static String expected(DataType t) {
        return t.equals(DataTypes.IntegerType) ? "an integer" : t.equals(DataTypes.DoubleType) ? "a number"
                : t instanceof ArrayType ? "a list of strings" : t.simpleString();
    }
}
