package dev.starspec.job.generate;

import static org.apache.spark.sql.functions.col;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.udfs.DraftSpec;
import dev.starspec.udfs.GeneratePartition;
import dev.starspec.udfs.GenerationConfig;
import dev.starspec.udfs.InputRow;
import dev.starspec.udfs.ModelRegistry;
import dev.starspec.udfs.OutputRow;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * The generate job: read prompts, skip those already done (resume), and map them through
 * {@link GeneratePartition} in batches, each batch its own Parquet commit. Spark's commit protocol makes a
 * retried task never duplicate or lose rows within a batch; batches make an interrupted job lose at most the
 * batch in flight, which {@code --mode resume} then redoes.
 */
public final class GenerateJob {

    private final GenerationConfig config;
    private final PromptSource input;
    private final String output;
    private final boolean resume;
    private final Integer partitions;
    private final int batchRows;
    private final String master;
    private final boolean threadsFromSpark;

    public GenerateJob(GenerationConfig config, PromptSource input, String output, boolean resume, Integer partitions,
                       int batchRows, String master, boolean threadsFromSpark) {
        if (batchRows <= 0) {
            throw new IllegalArgumentException("--batch-rows must be positive");
        }
        this.config = config;
        this.input = input;
        this.output = output;
        this.resume = resume;
        this.partitions = partitions;
        this.batchRows = batchRows;
        this.master = master;
        this.threadsFromSpark = threadsFromSpark;
    }

    public JobSummary run(Consumer<String> log) {
        return run(log, false);
    }

    /**
     * @param liveProgress draw a progress line in place while generating, if the output is a terminal (log lines
     *     then print above it)
     */
    public JobSummary run(Consumer<String> log, boolean liveProgress) {
        long start = System.nanoTime();
        SparkSession spark = SparkSessions.getOrCreate(master, "starspec generate");
        int taskCpus = Integer.parseInt(spark.conf().get("spark.task.cpus", "1"));
        int slots = Math.max(1, spark.sparkContext().defaultParallelism() / taskCpus);
        boolean local = spark.sparkContext().isLocal();
        checkOutputWritable(spark);
        GenerationConfig c = threadsFromSpark ? config.withTaskThreads(spark) : config;
        checkModelsOnDriver(c, local, log);

        GeneratePartition.Progress progress = GeneratePartition.Progress.register(spark.sparkContext());
        Dataset<Row> prompts = input.read(spark, log);
        boolean outputExists = exists(spark, output);
        if (resume && outputExists) {
            // Appending would pick up an interrupted run's task files; a fresh run's overwrite removes them anyway.
            discardUncommitted(spark, log);
            Dataset<Row> done = spark.read().parquet(output).select("id").where(col("id").isNotNull()).distinct();
            prompts = prompts.join(done, prompts.col("id").equalTo(done.col("id")), "left_anti");
        }
        Dataset<Row> pending = prompts.persist(StorageLevel.MEMORY_AND_DISK());
        InputCounts counts = InputCounts.of(pending);
        long total = counts.rows();
        long batches = (total + batchRows - 1) / batchRows;
        // Numbering rows into batches costs a Spark job of its own: only worth it when there is more than one batch.
        Dataset<Row> numbered = batches > 1 ? numbered(spark, pending).persist(StorageLevel.MEMORY_AND_DISK()) : pending;
        // Every partition's batch drains at its end, so fewer, larger partitions decode better; on a cluster two per
        // task slot keep a lost executor cheap to redo, locally there is nothing to lose.
        int parts = partitions != null ? partitions : local ? slots : 2 * slots;
        String commits = batches <= 1 ? "in one batch" : String.format("in %d batches of up to %d rows", batches, batchRows);
        log.accept(String.format("starspec: %d prompts to generate (%s) %s, %d partition%s each, "
                + "%d task slot(s) x %d threads, batch size %s%s", total, input.kind().name().toLowerCase(), commits,
                parts, parts == 1 ? "" : "s", slots, c.runtime().threads(), batchDescription(c, local),
                resume && outputExists ? ", resuming " + output : ""));
        if (counts.malformed() > 0) {
            log.accept("starspec: " + counts.malformed() + " input row(s) could not be read as prompts; they are written "
                    + "with the reason in error");
        }
        if (counts.duplicateWarning() != null) {
            log.accept(counts.duplicateWarning());
        }
        ProgressLine line = liveProgress ? ProgressLine.start(spark.sparkContext(), progress, total) : null;
        Consumer<String> say = line == null ? log : line.above(log);
        try {
            generate(c, progress, pending, numbered, batches, parts, say);
        } finally {
            if (line != null) {
                line.close();
            }
        }
        numbered.unpersist();
        pending.unpersist();
        if (batches == 0 && !exists(spark, output)) {
            spark.createDataFrame(List.of(), OutputRow.SCHEMA).write().mode(SaveMode.Overwrite).parquet(output);
        }
        JobSummary summary = JobSummary.of(spark.read().parquet(output), progress, (System.nanoTime() - start) / 1e9,
                slots, c.target().location(), c.draft().describe(), batchDescription(c, local), counts);
        writeSummary(spark, summary);
        return summary;
    }

    /** The batches, each its own Parquet commit. */
    private void generate(GenerationConfig c, GeneratePartition.Progress progress,
                          Dataset<Row> pending, Dataset<Row> numbered, long batches, int parts, Consumer<String> say) {
        for (long b = 0; b < batches; b++) {
            Dataset<Row> wave = batches > 1 ? numbered.where(col("_batch").equalTo(b)).drop("_batch") : pending;
            Dataset<Row> rows = wave.repartition(parts)
                    .mapPartitions(new GeneratePartition(c, progress), Encoders.row(OutputRow.SCHEMA));
            boolean replace = b == 0 && !resume;
            rows.write().mode(replace ? SaveMode.Overwrite : SaveMode.Append).parquet(output);
            say.accept(String.format("starspec: batch %d/%d committed (%d prompts done, %d tokens, %d errors)",
                    b + 1, batches, progress.prompts().value(), progress.tokens().value(), progress.errors().value()));
        }
    }

    /** The batch size as configured; in local mode the automatic choice is known here (the driver decodes). */
    private static String batchDescription(GenerationConfig c, boolean local) {
        if (c.decode().batchSize() != DecodeOptions.AUTO_BATCH) {
            return Integer.toString(c.decode().batchSize());
        }
        return local ? "auto (" + ModelRegistry.decoder(c).batchSize() + ")" : "auto";
    }

    /** Prompts with a batch number, assigned by position so that every batch is a fixed set of rows. */
    private Dataset<Row> numbered(SparkSession spark, Dataset<Row> prompts) {
        int rows = batchRows;
        JavaRDD<Row> indexed = prompts.javaRDD().zipWithIndex().map(t -> {
            Object[] values = new Object[t._1().size() + 1];
            for (int i = 0; i < t._1().size(); i++) {
                values[i] = t._1().get(i);
            }
            values[values.length - 1] = t._2() / rows;
            return RowFactory.create(values);
        });
        return spark.createDataFrame(indexed, InputRow.SCHEMA.add("_batch", DataTypes.LongType, false));
    }

    /**
     * Local model folders are checked here, before any task starts: a bad artifact is one clear error, not a
     * task failure per executor. In local mode the driver is the executor, so this also loads the models once.
     */
    private static void checkModelsOnDriver(GenerationConfig c, boolean local, Consumer<String> log) {
        if (local) {
            ModelRegistry.decoder(c);
            return;
        }
        List<String> locations = new java.util.ArrayList<>(List.of(c.target().location()));
        if (c.draft() instanceof DraftSpec.Model m) {
            locations.add(m.model().location());
        }
        for (String location : locations) {
            if (location.contains("://")) {
                continue;
            }
            java.nio.file.Path p = java.nio.file.Path.of(location);
            if (Files.isRegularFile(p.resolve("manifest.json"))) {
                Artifact.open(p);
            } else if (!Files.isRegularFile(p.resolve("config.json"))) {
                log.accept("starspec: " + location + " is not on the driver; executors will look for it themselves");
            }
        }
    }

    /**
     * Fails before any model loads or row is generated when the output cannot be written: otherwise the first
     * batch's work would be lost at its commit. A probe file beside the output is created and deleted (a hidden
     * name, which Parquet readers skip should it stay behind).
     */
    private void checkOutputWritable(SparkSession spark) {
        org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(output);
        try {
            FileSystem fs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (fs.exists(out) && !fs.getFileStatus(out).isDirectory()) {
                throw new IllegalArgumentException("cannot write the output " + output
                        + ": it is a file; --output names a folder of Parquet files");
            }
            org.apache.hadoop.fs.Path parent = out.getParent();
            if (parent != null && !fs.exists(parent) && !fs.mkdirs(parent)) {
                throw new IOException("cannot create " + parent);
            }
            org.apache.hadoop.fs.Path probe = new org.apache.hadoop.fs.Path(parent,
                    "." + out.getName() + ".write-probe-" + java.util.UUID.randomUUID());
            try (OutputStream ignored = fs.create(probe, false)) {
                // writable
            }
            fs.delete(probe, false);
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IllegalArgumentException("cannot write the output " + output + ": " + why
                    + " (nothing was generated)", e);
        }
    }

    /**
     * A run killed mid-batch leaves its tasks' written but uncommitted files under {@code _temporary}; Hadoop's
     * committer would fold them into the next job's commit on this output (they sit under the same attempt
     * folder), duplicating rows that run generates again. One job writes an output at a time, so whatever is
     * there is a dead run's.
     */
    private void discardUncommitted(SparkSession spark, Consumer<String> log) {
        org.apache.hadoop.fs.Path staging = new org.apache.hadoop.fs.Path(output, "_temporary");
        try {
            FileSystem fs = staging.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (fs.exists(staging)) {
                log.accept("starspec: discarding " + staging + ", uncommitted work of an interrupted run");
                fs.delete(staging, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean " + staging + ": " + e.getMessage(), e);
        }
    }

    private static boolean exists(SparkSession spark, String location) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
            return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + location, e);
        }
    }

    /** {@code out/completions.parquet} gets {@code out/completions.summary.json}. */
    public static String summaryLocation(String output) {
        String base = output.replaceAll("/+$", "");
        return (base.endsWith(".parquet") ? base.substring(0, base.length() - ".parquet".length()) : base) + ".summary.json";
    }

    private void writeSummary(SparkSession spark, JobSummary summary) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(summaryLocation(output));
        try {
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            try (OutputStream out = fs.create(p, true)) {
                out.write(summary.toJson().toPrettyString().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p, e);
        }
    }
}
