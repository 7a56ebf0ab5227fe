package dev.starspec.udfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;

/**
 * The partition function streams: rows come out as they finish, before the partition's input is read to the end;
 * a row with bad settings comes out as an error with its id; the completions are those of one prompt at a time.
 */
class GeneratePartitionTest {

    static GeneratePartition.Progress progress() {
        return new GeneratePartition.Progress(new LongAccumulator(), new LongAccumulator(), new LongAccumulator(),
                new LongAccumulator(), new LongAccumulator());
    }

    static List<Row> input() {
        List<Row> rows = new ArrayList<>();
        List<String> prompts = HumanEvalTexts.prompts();
        for (int i = 0; i < 20; i++) {
            rows.add(RowFactory.create("p" + i, prompts.get(i), 4 + i % 9, null, null));
        }
        rows.add(RowFactory.create("bad-max", prompts.get(0), -3, null, null));
        return rows;
    }

    static Map<String, OutputRow> collect(Iterator<Row> out) {
        Map<String, OutputRow> byId = new HashMap<>();
        out.forEachRemaining(r -> byId.put(r.getString(0), OutputRow.fromRow(r)));
        return byId;
    }

    @Test
    void rowsStreamOutAsTheyFinishAndMatchDecodingOneAtATime() {
        GenerationConfig config = GenerationConfig.of(ProjectFiles.tinyTarget().toString(), ProjectFiles.tinyDraft().toString())
                .withBatchSize(4).withThreads(2);
        AtomicInteger read = new AtomicInteger();
        Iterator<Row> source = input().iterator();
        Iterator<Row> counting = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return source.hasNext();
            }

            @Override
            public Row next() {
                read.incrementAndGet();
                return source.next();
            }
        };
        GeneratePartition.Progress progress = progress();
        Iterator<Row> out = new GeneratePartition(config, progress).call(counting);
        assertTrue(out.hasNext());
        OutputRow first = OutputRow.fromRow(out.next());
        assertTrue(read.get() <= 4 + 1, "the first row came out after reading " + read.get() + " of 21 input rows");
        Map<String, OutputRow> batched = collect(out);
        batched.put(first.id(), first);
        assertEquals(21, batched.size(), "every input row exactly once");
        assertEquals(21, progress.prompts().value());
        assertEquals(1, progress.errors().value());

        OutputRow bad = batched.get("bad-max");
        assertEquals("error", bad.finishReason());
        assertTrue(bad.error().contains("max new tokens"), bad.error());

        Map<String, OutputRow> single = collect(new GeneratePartition(config.withBatchSize(1), progress()).call(input().iterator()));
        for (int i = 0; i < 20; i++) {
            OutputRow b = batched.get("p" + i);
            assertNull(b.error());
            assertEquals(single.get("p" + i).completion(), b.completion(), "row " + i);
            assertNotNull(b.queueMs());
            assertTrue(b.completionTokens() <= 4 + i % 9);
        }
    }
}
