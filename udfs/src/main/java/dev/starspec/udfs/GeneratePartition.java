package dev.starspec.udfs;

import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Generation;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mapPartitions function: prompts in ({@link InputRow}), one output row per prompt out ({@link OutputRow}).
 * It carries only its configuration and accumulators; the models come from the executor's {@link ModelRegistry}.
 * A prompt that fails becomes a row with the error and the partition goes on.
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
                    sc.longAccumulator("starspec generation time (us)"));
        }
    }

    private final GenerationConfig config;
    private final Progress progress;

    public GeneratePartition(GenerationConfig config, Progress progress) {
        this.config = config;
        this.progress = progress;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        Decoder decoder = ModelRegistry.decoder(config);
        List<Row> out = new ArrayList<>();
        long start = System.nanoTime();
        long tokens = 0;
        double ttft = 0;
        double tpot = 0;
        int timed = 0;
        long proposed = 0;
        long accepted = 0;
        while (input.hasNext()) {
            Row in = input.next();
            Row row = generate(decoder, in);
            out.add(row);
            progress.prompts().add(1);
            progress.generationMicros().add((long) (row.getDouble(8) * 1000));
            if (row.isNullAt(16)) {
                tokens += row.getInt(5);
                progress.tokens().add(row.getInt(5));
                if (!row.isNullAt(6) && !row.isNullAt(7)) {
                    ttft += row.getDouble(6);
                    tpot += row.getDouble(7);
                    timed++;
                }
                if (!row.isNullAt(9)) {
                    proposed += row.getLong(9);
                    accepted += row.getLong(10);
                    progress.acceptedDraftTokens().add(row.getLong(10));
                }
            } else {
                progress.errors().add(1);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        LOG.info(String.format("partition done on %s: %d rows, %d tokens in %.1f s (%.1f tokens/s), mean TTFT %.1f ms, "
                        + "mean TPOT %.2f ms%s", ModelRegistry.executorId(), out.size(), tokens, seconds, tokens / seconds,
                timed == 0 ? Double.NaN : ttft / timed, timed == 0 ? Double.NaN : tpot / timed,
                proposed == 0 ? "" : String.format(", acceptance %.1f%%", 100.0 * accepted / proposed)));
        return out.iterator();
    }

    /** One prompt to one row, never an exception. */
    Row generate(Decoder decoder, Row in) {
        String id = InputRow.id(in);
        String prompt = InputRow.prompt(in);
        long start = System.nanoTime();
        try {
            long rowSeed = config.seed() ^ (id == null ? 0 : id.hashCode() * 0x9E3779B97F4A7C15L);
            Generation g = decoder.generate(config.request(prompt, InputRow.maxNewTokens(in), InputRow.temperature(in),
                    InputRow.stop(in), rowSeed));
            return OutputRow.of(id, prompt, g, decoder.targetId(), decoder.draftId());
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.warn("prompt {} failed: {}", id, e.toString());
            return OutputRow.failed(id, prompt, e, decoder.targetId(), decoder.draftId(), (System.nanoTime() - start) / 1e6);
        }
    }
}
