package dev.starspec.job.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Draft;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.Generation;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Sampling;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.job.SparkTestSession;
import dev.starspec.udfs.GenerationConfig;
import dev.starspec.udfs.OutputRow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generate job on local[2], decoding in batches with the draft: every id once, the schema as specified, errors
 * only where planted, and the completions the engine gives each prompt alone without a draft.
 */
class GenerateJobLocalTest {

    static final int MAX_NEW = 16;
    static final Set<String> PLANTED = Set.of("bad/null-prompt", "bad/empty-prompt", "bad/too-long", "bad/zero-tokens");

    static GenerationConfig config() {
        return GenerationConfig.of(ProjectFiles.tinyTarget().toString(), ProjectFiles.tinyDraft().toString())
                .withMaxNewTokens(MAX_NEW).withThreads(1);
    }

    /** 44 HumanEval prompts, one without an id, four planted bad rows and a malformed line. */
    static List<String> inputLines() {
        ObjectMapper m = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        List<String> prompts = HumanEvalTexts.prompts();
        for (int i = 0; i < 44; i++) {
            ObjectNode n = m.createObjectNode();
            if (i != 7) {
                n.put("id", "he-" + i);
            }
            n.put("prompt", prompts.get(i));
            lines.add(n.toString());
        }
        lines.add("{\"id\": \"bad/null-prompt\", \"prompt\": null}");
        lines.add("{\"id\": \"bad/empty-prompt\", \"prompt\": \"\"}");
        lines.add(m.createObjectNode().put("id", "bad/too-long").put("prompt", "x = 1\n".repeat(200)).toString());
        lines.add("{\"id\": \"bad/zero-tokens\", \"prompt\": \"def f():\", \"max_new_tokens\": 0}");
        lines.add("{\"id\": \"bad/malformed\", \"prompt\": \"unterminated");
        return lines;
    }

    @Test
    void everyIdOnceWithTheSpecifiedSchemaAndTheEnginesCompletions(@TempDir Path tmp) throws IOException {
        Path input = tmp.resolve("prompts.jsonl");
        Files.write(input, inputLines());
        String output = tmp.resolve("out/completions.parquet").toString();
        SparkSession spark = SparkTestSession.get();

        JobSummary summary = new GenerateJob(config(), input.toString(), PromptSource.Kind.JSONL, false, output,
                false, 3, 20, null, false).run(s -> { });

        List<Row> rows = spark.read().parquet(output).collectAsList();
        assertArrayEquals(OutputRow.SCHEMA.fieldNames(), spark.read().parquet(output).schema().fieldNames(), "column order");
        assertEquals(49, rows.size());
        assertEquals(49, rows.stream().map(r -> r.getString(0)).distinct().count(), "every id exactly once");
        assertEquals(49, summary.rows());
        assertEquals(5, summary.errors());

        Map<String, Row> byId = new HashMap<>();
        rows.forEach(r -> byId.put(r.getString(0), r));
        List<String> prompts = HumanEvalTexts.prompts();
        String unnamed = byId.keySet().stream().filter(id -> id.startsWith("sha256:")).findFirst().orElseThrow();
        try (Model target = Model.load(dev.starspec.engine.artifact.ArtifactCache.standard()
                .resolve(ProjectFiles.tinyTarget(), null, s -> { }), RuntimeOptions.defaults().withThreads(1))) {
            Decoder alone = Decoder.create(target, new Draft.None(), DecodeOptions.sequential(DraftLength.fixed(1)),
                    OffHeapMemory.root());
            for (int i = 0; i < 44; i++) {
                Row r = byId.get(i == 7 ? unnamed : "he-" + i);
                assertNull(r.getAs("error"), "row " + i);
                assertEquals(prompts.get(i), r.getAs("prompt"));
                double ttft = r.getAs("ttft_ms");
                double total = r.getAs("total_ms");
                assertTrue((double) r.getAs("queue_ms") >= 0, "queue time of row " + i);
                assertTrue(ttft > 0 && total >= ttft, "latency of row " + i + ": ttft " + ttft + ", total " + total);
                int tokens = r.getAs("completion_tokens");
                if (tokens > 1) {
                    assertTrue((double) r.getAs("tpot_ms") > 0);
                }
                assertTrue((int) r.getAs("prompt_tokens") > 0);
                assertEquals("tiny-starcoder-target:fp32", r.getAs("model"));
                assertEquals("tiny-starcoder-draft:fp32", r.getAs("draft"));
                assertNotNull(r.getAs("executor"));
                long proposed = r.getAs("draft_tokens_proposed");
                long accepted = r.getAs("draft_tokens_accepted");
                assertTrue(accepted <= proposed);
                Generation expected = alone.generate(new GenerationRequest(prompts.get(i), MAX_NEW,
                        GenerationRequest.HUMANEVAL_STOPS, Sampling.GREEDY));
                assertEquals(expected.completion(), r.getAs("completion"), "completion of row " + i);
                assertEquals(expected.finishReason().label(), r.getAs("finish_reason"));
            }
        }
        for (String id : PLANTED) {
            Row r = byId.get(id);
            assertEquals("error", r.getAs("finish_reason"), id);
            assertNotNull(r.getAs("error"), id);
        }
        Row malformed = byId.values().stream().filter(r -> r.getString(0).startsWith("malformed-line:")).findFirst().orElseThrow();
        assertEquals("error", malformed.getAs("finish_reason"));
        assertTrue(((String) byId.get("bad/too-long").getAs("error")).contains("context"), (String) byId.get("bad/too-long").getAs("error"));

        JsonNode json = new ObjectMapper().readTree(tmp.resolve("out/completions.summary.json").toFile());
        assertEquals(49, json.get("rows").asInt());
        assertEquals(5, json.get("errors").asInt());
        assertTrue(json.get("ttft_ms").get("p50").asDouble() > 0);
        assertTrue(json.get("acceptance_rate").asDouble() > 0);
        assertTrue(json.get("batch_size").asText().startsWith("auto ("), json.get("batch_size").asText());
        assertTrue(json.get("queue_ms").get("p50").asDouble() >= 0);
    }
}
