package dev.starspec.udfs;

import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Decoding;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Outcome;
import dev.starspec.engine.decode.Submission;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mapPartitions function: prompts in ({@link InputRow}), one row per prompt out, made from its {@link OutputRow}
 * by {@link Rows} (the job writes the output row itself; the pipeline stage appends it to the input row).
 * The partition's prompts stream through one {@link Decoding}: up to the batch size of them decode together, a
 * finished row is handed to Spark at once (rows leave in the order they finish) and the next prompt is read only
 * when a slot frees up. It carries only its configuration and accumulators; the models come from the executor's
 * {@link ModelRegistry}. A prompt that fails becomes a row with the error and the partition goes on.
 */
public final class GeneratePartition implements MapPartitionsFunction<Row, Row> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(GeneratePartition.class);

    /** Job-wide counters, visible in the Spark UI and to the driver. */
    public record Progress(LongAccumulator prompts, LongAccumulator tokens, LongAccumulator acceptedDraftTokens,
                           LongAccumulator errors, LongAccumulator generationMicros) implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        public static Progress register(org.apache.spark.SparkContext sc) {
            return new Progress(sc.longAccumulator("starspec prompts done"), sc.longAccumulator("starspec tokens generated"),
                    sc.longAccumulator("starspec draft tokens accepted"), sc.longAccumulator("starspec errors"),
                    sc.longAccumulator("starspec partition decode time (us)"));
        }

        void count(OutputRow r) {
            prompts.add(1);
            if (r.failed()) {
                errors.add(1);
            } else {
                tokens.add(r.completionTokens());
                if (r.draftTokensAccepted() != null) {
                    acceptedDraftTokens.add(r.draftTokensAccepted());
                }
            }
        }
    }

    /** How a partition's rows are read as prompts and written back with their results. */
    public interface Rows extends java.io.Serializable {
        InputRow read(Row source);

        Row write(Row source, OutputRow result);

        /** Rows of {@link InputRow#SCHEMA} in, rows of {@link OutputRow#SCHEMA} out: the generate job's shape. */
        Rows OUTPUT_ROWS = new Rows() {
            @Override
            public InputRow read(Row source) {
                return InputRow.of(source);
            }

            @Override
            public Row write(Row source, OutputRow result) {
                return result.toRow();
            }
        };
    }

    private final GenerationConfig config;
    private final Progress progress;
    private final Rows rows;

    public GeneratePartition(GenerationConfig config, Progress progress) {
        this(config, progress, Rows.OUTPUT_ROWS);
    }

    public GeneratePartition(GenerationConfig config, Progress progress, Rows rows) {
        this.config = config;
        this.progress = progress;
        this.rows = rows;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        Results results = new Results(ModelRegistry.decoder(config), input);
        TaskContext task = TaskContext.get();
        if (task != null) {
            // A task that ends early (killed, or its consumer stopped) still returns its cache memory.
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) context -> results.close());
        }
        return results;
    }

    /** A prompt and the row it came from. */
    private record Source(Row row, InputRow in) {}

    /** The partition's output rows, decoded as Spark reads them. */
    private final class Results implements Iterator<Row> {
        private final Decoder decoder;
        private final Decoding<Source> decoding;
        /** Rows whose settings were invalid: they never reach the decoder. */
        private final ArrayDeque<Row> rejected = new ArrayDeque<>();
        private final OutputStats stats = new OutputStats();
        private final long start = System.nanoTime();
        private boolean logged;

        Results(Decoder decoder, Iterator<Row> input) {
            this.decoder = decoder;
            this.decoding = decoder.decode(new Iterator<>() {
                private Submission<Source> next;

                @Override
                public boolean hasNext() {
                    while (next == null && input.hasNext()) {
                        long read = System.nanoTime();
                        Row row = input.next();
                        InputRow in = rows.read(row);
                        if (in.error() != null) {
                            reject(row, OutputRow.failed(in.id(), in.prompt(), in.error(), decoder.targetId(),
                                    decoder.draftId(), 0, (System.nanoTime() - read) / 1e6).withLanguage(in.language()));
                            continue;
                        }
                        try {
                            GenerationRequest r = config.request(in.id(), in.prompt(), in.maxNewTokens(), in.temperature(),
                                    in.stop());
                            next = new Submission<>(new Source(row, in), r, read);
                        } catch (RuntimeException e) {
                            reject(row, OutputRow.failed(in.id(), in.prompt(), e, decoder.targetId(), decoder.draftId(), 0,
                                    (System.nanoTime() - read) / 1e6).withLanguage(in.language()));
                        }
                    }
                    return next != null;
                }

                @Override
                public Submission<Source> next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    Submission<Source> s = next;
                    next = null;
                    return s;
                }
            });
        }

        @Override
        public boolean hasNext() {
            // Asking the decoder reads input, which may turn up rejected rows even when it has nothing more itself.
            boolean more = !rejected.isEmpty() || decoding.hasNext() || !rejected.isEmpty();
            if (!more && !logged) {
                logged = true;
                log();
            }
            return more;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            if (!rejected.isEmpty()) {
                return rejected.poll();
            }
            Outcome<Source> o = decoding.next();
            return counted(o.key().row(), row(o));
        }

        private void reject(Row source, OutputRow out) {
            rejected.add(counted(source, out));
        }

        private Row counted(Row source, OutputRow out) {
            stats.add(out);
            progress.count(out);
            return rows.write(source, out);
        }

        private OutputRow row(Outcome<Source> o) {
            InputRow in = o.key().in();
            if (o.failed()) {
                LOG.warn("prompt {} failed: {}", in.id(), o.error().toString());
                return OutputRow.failed(in.id(), in.prompt(), o.error(), decoder.targetId(), decoder.draftId(), o.queueMs(),
                        o.totalMs()).withLanguage(in.language());
            }
            return OutputRow.of(in.id(), in.prompt(), o.generation(), decoder.targetId(), decoder.draftId(), o.queueMs())
                    .withLanguage(in.language());
        }

        void close() {
            decoding.close();
        }

        private void log() {
            double seconds = (System.nanoTime() - start) / 1e9;
            progress.generationMicros().add((long) (seconds * 1e6));
            LOG.info(String.format("partition done on %s: %d rows (%d errors), %d tokens in %.1f s (%.1f tokens/s), "
                            + "batch %s, TTFT p50 %.1f ms, TPOT p50 %.2f ms, queue p50 %.1f ms%s", ModelRegistry.executorId(),
                    stats.rows(), stats.errors(), stats.completionTokens(), seconds, stats.completionTokens() / seconds,
                    decoding.mostRows() < decoder.batchSize() ? decoding.mostRows() + " (of " + decoder.batchSize() + ")"
                            : Integer.toString(decoder.batchSize()), stats.ttftMs().median(), stats.tpotMs().median(), stats.queueMs().median(),
                    Double.isNaN(stats.acceptance()) ? "" : String.format(", acceptance %.1f%%", 100 * stats.acceptance())));
        }
    }
}
