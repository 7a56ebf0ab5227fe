package dev.starspec.job.humaneval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.job.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sweep end to end on the tiny models: generation, sandboxed scoring, report files. */
class HumanEvalSweepTest {

    @Test
    void sweepOfFloatInt8AndInt8WithDraft(@TempDir Path out) throws Exception {
        SparkTestSession.get();
        List<Problem> problems = Problems.load(ProjectFiles.data("humaneval/HumanEval.jsonl.gz")).subList(0, 8);
        HumanEvalSweep sweep = new HumanEvalSweep(
                List.of(SweepConfig.parse("fp32"), SweepConfig.parse("int8"), SweepConfig.parse("int8+draft:int8")),
                new HumanEvalSweep.Models(ProjectFiles.tinyTarget().toString(), ProjectFiles.tinyDraft().toString(), Map.of(), Map.of()),
                new HumanEvalSweep.Settings(1, 0, 1, 32, dev.starspec.engine.decode.DraftLength.fixed(5), 1, 3.0, 1, 2, null), problems, out);
        List<ConfigResult> results = sweep.run(s -> { });
        dev.starspec.job.report.SweepReport.write(out, results, sweep.machineNote());

        for (String f : List.of("report.md", "report.html", "summary.json", "rows.csv", "ttft.png", "tpot.png", "ttft.svg", "tpot.svg", "acceptance.svg", "speedup_vs_acceptance.svg",
                "acceptance.png", "speedup_vs_acceptance.png")) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| int8+draft:int8 | SmoothQuant INT8 + draft (int8) | A8W8 |"), md);

        Map<String, String> int8 = completions(out.resolve("int8/results.parquet"));
        Map<String, String> speculative = completions(out.resolve("int8_draft-int8/results.parquet"));
        assertEquals(8, int8.size());
        assertEquals(int8, speculative, "greedy speculative completions equal plain ones");

        List<Row> scored = SparkTestSession.get().read().parquet(out.resolve("fp32/results.parquet").toString()).collectAsList();
        assertEquals(8, scored.size());
        for (Row r : scored) {
            String result = r.getAs("result");
            assertTrue(result.equals("passed") || result.startsWith("failed: ") || result.equals("timed out"), result);
            assertEquals(result.equals("passed"), (boolean) r.getAs("passed"));
        }

        JsonNode generations = new ObjectMapper().readTree(out.resolve("int8/generations.json").toFile());
        assertEquals(8, generations.size());
        for (int i = 0; i < 8; i++) {
            assertEquals(1, generations.get(i).size());
            assertTrue(generations.get(i).get(0).asText().startsWith(Programs.prompt(problems.get(i))));
        }
        ConfigResult draft = results.get(2);
        assertTrue(draft.acceptance() > 0 && draft.acceptance() <= 1, "acceptance " + draft.acceptance());
        assertEquals(8, draft.tallies().size());
    }

    static Map<String, String> completions(Path results) {
        Map<String, String> out = new HashMap<>();
        for (Row r : SparkTestSession.get().read().parquet(results.toString()).collectAsList()) {
            out.put(r.getAs("task_id"), r.getAs("completion"));
        }
        return out;
    }
}
