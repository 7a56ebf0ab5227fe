package dev.starspec.job.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.job.JavaProcess;
import dev.starspec.job.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generate job killed (SIGKILL) in the middle of a batch, after some batches were committed, then run again with
 * --mode resume, ends with every id exactly once.
 */
class ResumeTest {

    @Test
    void killedJobResumedEndsWithEveryIdOnce(@TempDir Path tmp) throws Exception {
        ObjectMapper m = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        List<String> prompts = HumanEvalTexts.prompts();
        for (int i = 0; i < 40; i++) {
            lines.add(m.createObjectNode().put("id", "p" + i).put("prompt", prompts.get(i)).toString());
        }
        Path input = tmp.resolve("prompts.jsonl");
        Files.write(input, lines);
        String output = tmp.resolve("completions.parquet").toString();
        List<String> args = List.of("generate", "--input", input.toString(), "--output", output, "--master", "local[2]",
                "--batch-rows", "5", "--partitions", "2", "--max-new-tokens", "48", "--no-stop", "--threads", "1",
                "--target", ProjectFiles.tinyTarget().toString(), "--draft", ProjectFiles.tinyDraft().toString());
        Map<String, String> env = Map.of("STARSPEC_CACHE", tmp.resolve("cache").toString());
        try (JavaProcess first = JavaProcess.start(System.getProperty("java.class.path"), "dev.starspec.job.Starspec",
                args, env, tmp)) {
            // killed in the middle of batch 3: one of its partitions done, written but not committed
            boolean[] committed = {false};
            assertTrue(first.awaitLine(l -> {
                committed[0] |= l.contains("batch 2/8 committed");
                return committed[0] && l.contains("partition done");
            }, 120_000), "the first run never got into its third batch:\n" + first.output());
            first.kill();
        }
        long before = SparkTestSession.get().read().parquet(output).count();
        assertTrue(before >= 10 && before < 40, "killed after 2 of 8 batches, found " + before + " rows");

        List<String> resumed = new ArrayList<>(args);
        resumed.addAll(List.of("--mode", "resume"));
        try (JavaProcess second = JavaProcess.start(System.getProperty("java.class.path"), "dev.starspec.job.Starspec",
                resumed, env, tmp)) {
            assertEquals(0, second.waitFor(180_000), second.output());
            assertTrue(second.output().contains(40 - before + " prompts to generate"), second.output());
            if (before == 10) {
                // the third batch had written task files but not committed them: they must be discarded
                assertTrue(second.output().contains("uncommitted work of an interrupted run"), second.output());
            }
        }
        List<Row> rows = SparkTestSession.get().read().parquet(output).collectAsList();
        assertEquals(40, rows.size());
        assertEquals(40, rows.stream().map(r -> r.getString(0)).distinct().count());
        assertTrue(rows.stream().allMatch(r -> r.isNullAt(16)), "no errors");
    }
}
