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
import java.nio.charset.StandardCharsets;
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

    /**
     * The job's defaults but a fixed draft length: the adaptive planner weighs measured pass costs, so whether it
     * drafts at all on a noisy machine is not for a test to rely on; a fixed K always exercises verification.
     */
    static GenerationConfig config() {
        GenerationConfig c = GenerationConfig.of(ProjectFiles.tinyTarget().toString(), ProjectFiles.tinyDraft().toString())
                .withMaxNewTokens(MAX_NEW).withThreads(1);
        return c.withDecode(c.decode().withDraftLength(DraftLength.fixed(3)));
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

    /** HumanEval's own file: task_id is the id, the prompt trimmed as the harness does, python; a damaged line one error row. */
    @Test
    void humanEvalFilesAreReadLineByLine(@TempDir Path tmp) throws IOException {
        List<String> lines = new ArrayList<>();
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(ProjectFiles.data("humaneval/HumanEval.jsonl.gz")));
             var reader = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (int i = 0; i < 3; i++) {
                lines.add(reader.readLine());
            }
        }
        lines.add(lines.get(2).substring(0, 40)); // a truncated copy of the third problem
        Path file = Files.write(tmp.resolve("HumanEval-part.jsonl"), lines);
        assertEquals(PromptSource.Kind.HUMANEVAL, PromptSource.detect(file.toString(), null));
        Map<String, Row> byId = new HashMap<>();
        List<Row> rows = PromptSource.of(file.toString(), PromptSource.Kind.HUMANEVAL).read(SparkTestSession.get(), s -> { })
                .collectAsList();
        rows.forEach(r -> byId.put(r.getAs("id"), r));
        assertEquals(4, rows.size());
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        Row r0 = byId.get("HumanEval/0");
        assertEquals(first.get("prompt").asText().strip(), r0.getAs("prompt"));
        assertEquals("python", r0.getAs("language"));
        assertNull(r0.getAs("error"));
        long errors = rows.stream().filter(r -> r.getAs("error") != null).count();
        assertEquals(1, errors, "the truncated line");
        Row bad = rows.stream().filter(r -> r.getAs("error") != null).findFirst().orElseThrow();
        assertTrue(((String) bad.getAs("error")).startsWith("line 4: "), (String) bad.getAs("error"));
    }

    @Test
    void everyIdOnceWithTheSpecifiedSchemaAndTheEnginesCompletions(@TempDir Path tmp) throws IOException {
        Path input = tmp.resolve("prompts.jsonl");
        Files.write(input, inputLines());
        String output = tmp.resolve("out/completions.parquet").toString();
        SparkSession spark = SparkTestSession.get();

        JobSummary summary = new GenerateJob(config(), PromptSource.of(input.toString(), PromptSource.Kind.JSONL), output,
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
        try (Model target = Model.load(dev.starspec.engine.convert.ArtifactCache.standard()
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
        assertEquals("line 49: not valid JSON: the line ends inside a string (truncated?)",
                byId.get("bad/malformed").getAs("error"), "a truncated line keeps the id it had");
        assertEquals("line 45: prompt: missing", byId.get("bad/null-prompt").getAs("error"));
        assertTrue(((String) byId.get("bad/too-long").getAs("error")).contains("context"), (String) byId.get("bad/too-long").getAs("error"));

        JsonNode json = new ObjectMapper().readTree(tmp.resolve("out/completions.summary.json").toFile());
        assertEquals(49, json.get("rows").asInt());
        assertEquals(5, json.get("errors").asInt());
        assertTrue(json.get("ttft_ms").get("p50").asDouble() > 0);
        assertTrue(json.get("acceptance_rate").asDouble() > 0);
        assertTrue(json.get("batch_size").asText().startsWith("auto ("), json.get("batch_size").asText());
        assertTrue(json.get("queue_ms").get("p50").asDouble() >= 0);
        assertEquals(2, json.get("this_run").get("malformed_rows").asInt(), "the truncated line and the null prompt");
        assertEquals(0, json.get("this_run").get("duplicate_ids").asInt());
    }

    /** A source tree through the job: its definitions generated, each row with its language. */
    @Test
    void aSourceTreeGivesRowsWithTheirLanguage(@TempDir Path tmp) throws IOException {
        Path tree = Files.createDirectories(tmp.resolve("tree"));
        Files.writeString(tree.resolve("a.py"), "def add(a, b):\n    \"\"\"Sum.\"\"\"\n    return a + b\n");
        Files.writeString(tree.resolve("b.go"), "package b\n\n// Twice doubles.\nfunc Twice(x int) int {\n\treturn 2 * x\n}\n");
        Files.writeString(tree.resolve("c.rs"), "fn broken( {\n");
        String output = tmp.resolve("out.parquet").toString();
        List<String> log = new ArrayList<>();
        new GenerateJob(config(), new PromptSource(tree.toString(), PromptSource.Kind.REPO, false, null), output,
                false, 1, 10, null, false).run(log::add);
        Map<String, OutputRow> rows = new HashMap<>();
        SparkTestSession.get().read().parquet(output).collectAsList()
                .forEach(r -> rows.put(r.getString(0), OutputRow.fromRow(r)));
        assertEquals(Set.of("a.py:1-3", "b.go:4-6"), rows.keySet());
        assertEquals("python", rows.get("a.py:1-3").language());
        assertEquals("go", rows.get("b.go:4-6").language());
        assertEquals("// Twice doubles.\nfunc Twice(x int) int {\n", rows.get("b.go:4-6").prompt());
        assertTrue(rows.values().stream().allMatch(r -> r.error() == null && r.completionTokens() > 0));
        assertTrue(log.stream().anyMatch(l -> l.contains("2 prompts from 1 python 1 go file(s)")
                && l.contains("1 that do not parse")), String.join("\n", log));
    }

    /** A Parquet input with wrong-typed columns: the rows say which value is wrong, the others are generated. */
    @Test
    void parquetValuesOfTheWrongTypeBecomeErrorRows(@TempDir Path tmp) {
        SparkSession spark = SparkTestSession.get();
        List<String> prompts = HumanEvalTexts.prompts();
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("id", "string").add("prompt", "string").add("max_new_tokens", "string").add("stop", "string")
                .add("extra", "int");
        List<Row> rows = List.of(
                org.apache.spark.sql.RowFactory.create("fine", prompts.get(0), "6", null, 1),
                org.apache.spark.sql.RowFactory.create("lots", prompts.get(1), "lots", null, 2),
                org.apache.spark.sql.RowFactory.create("stop", prompts.get(2), null, "\n", 3),
                org.apache.spark.sql.RowFactory.create("plain", prompts.get(3), null, null, 4));
        String input = tmp.resolve("in.parquet").toString();
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(input);
        String output = tmp.resolve("out.parquet").toString();
        new GenerateJob(config(), PromptSource.of(input, PromptSource.Kind.PARQUET), output, false, 1, 10, null, false)
                .run(s -> { });
        Map<String, OutputRow> out = new HashMap<>();
        spark.read().parquet(output).collectAsList().forEach(r -> out.put(r.getString(0), OutputRow.fromRow(r)));
        assertEquals(Set.of("fine", "lots", "stop", "plain"), out.keySet());
        assertEquals("max_new_tokens: expected an integer, got \"lots\"", out.get("lots").error());
        assertEquals("stop: expected a list of strings, got \"\n\"", out.get("stop").error());
        assertNull(out.get("fine").error());
        assertTrue(out.get("fine").completionTokens() <= 6, "its own max_new_tokens: " + out.get("fine"));
        assertNull(out.get("plain").error());
    }

    /** An output that cannot be written fails at once, naming it, before any model loads or row is generated. */
    @Test
    void anUnwritableOutputFailsBeforeGenerating(@TempDir Path tmp) throws IOException {
        Path input = Files.write(tmp.resolve("prompts.jsonl"), inputLines().subList(0, 3));
        Path blocker = Files.writeString(tmp.resolve("not-a-folder"), "a file where the output's folder should be");
        GenerationConfig missing = GenerationConfig.of(tmp.resolve("no-such-model").toString(), null);
        for (String output : List.of(blocker.resolve("out.parquet").toString(), blocker.toString())) {
            List<String> log = new ArrayList<>();
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new GenerateJob(missing, PromptSource.of(input.toString(), PromptSource.Kind.JSONL), output, false, 1, 10,
                            null, false).run(log::add));
            assertTrue(e.getMessage().startsWith("cannot write the output " + output + ": "), e.getMessage());
            assertEquals(List.of(), log, "nothing ran");
        }
    }

    /**
     * A hostile JSONL file, gzipped: one row per non-blank line, ids kept where readable, errors naming line and
     * field, good rows completed, duplicates counted and warned about.
     */
    @Test
    void malformedLinesKeepTheirIdsAndSayWhatIsWrong(@TempDir Path tmp) throws IOException {
        List<String> prompts = HumanEvalTexts.prompts();
        ObjectMapper m = new ObjectMapper();
        java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
        java.util.function.Consumer<String> line = l -> raw.writeBytes((l + "\n").getBytes(StandardCharsets.UTF_8));
        line.accept(m.createObjectNode().put("id", "good-1").put("prompt", prompts.get(0)).toString());
        line.accept("{\"id\": \"typed-1\", \"prompt\": \"def f():\", \"max_new_tokens\": \"lots\"}");
        line.accept("");
        line.accept("{\"id\": \"typed-2\", \"prompt\": \"def f():\", \"stop\": \"\\n\"}");
        raw.writeBytes("{\"id\": \"utf8\", \"prompt\": \"x".getBytes(StandardCharsets.UTF_8));
        raw.writeBytes(new byte[] {(byte) 0xff, '"', '}', '\n'});
        line.accept("{\"id\": \"cut\", \"prompt\": \"def g(");
        line.accept("   ");
        line.accept(m.createObjectNode().put("id", "twice").put("prompt", prompts.get(1)).toString());
        line.accept(m.createObjectNode().put("id", "twice").put("prompt", prompts.get(2)).toString());
        line.accept("{\"prompt\": 3}");
        Path input = tmp.resolve("hostile.jsonl.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(input))) {
            out.write(raw.toByteArray());
        }
        String output = tmp.resolve("out/hostile.parquet").toString();
        List<String> log = new ArrayList<>();
        JobSummary summary = new GenerateJob(config(), PromptSource.of(input.toString(), PromptSource.Kind.JSONL), output,
                false, 2, 100, null, false).run(log::add);

        List<OutputRow> rows = SparkTestSession.get().read().parquet(output).collectAsList().stream()
                .map(OutputRow::fromRow).toList();
        assertEquals(8, rows.size(), "one row per non-blank line");
        Map<String, List<OutputRow>> byId = new HashMap<>();
        rows.forEach(r -> byId.computeIfAbsent(r.id(), k -> new ArrayList<>()).add(r));
        assertEquals(Set.of("good-1", "typed-1", "typed-2", "utf8", "cut", "twice", "hostile.jsonl.gz:10"), byId.keySet());
        Map<String, String> errors = new HashMap<>();
        rows.stream().filter(OutputRow::failed).forEach(r -> errors.put(r.id(), r.error()));
        assertEquals(Map.of(
                "typed-1", "line 2: max_new_tokens: expected an integer, got \"lots\"",
                "typed-2", "line 4: stop: expected a list of strings, got \"\\n\"",
                "utf8", "line 5: invalid UTF-8 at byte 28",
                "cut", "line 6: not valid JSON: the line ends inside a string (truncated?)",
                "hostile.jsonl.gz:10", "line 10: prompt: expected a string, got 3"), errors);
        assertEquals("{\"id\": \"cut\", \"prompt\": \"def g(", byId.get("cut").get(0).prompt(), "the raw line is kept");
        for (String id : List.of("good-1", "twice")) {
            for (OutputRow r : byId.get(id)) {
                assertNull(r.error(), id);
                assertTrue(r.completionTokens() > 0, id);
            }
        }
        assertEquals(2, byId.get("twice").size());
        assertEquals(5, summary.input().malformed());
        assertEquals(1, summary.input().duplicateIds());
        assertEquals(2, summary.input().rowsWithDuplicateIds());
        assertEquals(5, summary.errors());
        assertTrue(log.stream().anyMatch(l -> l.contains("warning") && l.contains("twice")), String.join("\n", log));
    }
}
