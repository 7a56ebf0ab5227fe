package dev.starspec.job.humaneval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.job.Starspec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** starspec evaluate reads the harness's generations.json and human-eval's JSONL. */
class EvaluateCommandTest {

    static final List<Problem> FIRST = Problems.load(ProjectFiles.data("humaneval/HumanEval.jsonl.gz")).subList(0, 6);

    @Test
    void harnessGenerationsJson(@TempDir Path tmp) throws Exception {
        ObjectMapper m = new ObjectMapper();
        ArrayNode all = m.createArrayNode();
        for (int i = 0; i < FIRST.size(); i++) {
            Problem p = FIRST.get(i);
            // Two samples each: the canonical solution, and (for the first three problems) an empty body.
            all.addArray().add(p.prompt() + p.canonicalSolution()).add(i < 3 ? Programs.prompt(p) : p.prompt() + p.canonicalSolution());
        }
        Path file = tmp.resolve("generations.json");
        Files.writeString(file, all.toString());
        String out = run("evaluate", "--generations", file.toString(), "--output", tmp.resolve("r.jsonl").toString());
        assertTrue(out.contains("pass@1: 75.00% (6 problems, 2 samples each)"), out);
        assertEquals(12, Files.readAllLines(tmp.resolve("r.jsonl")).size());
    }

    @Test
    void humanEvalJsonl(@TempDir Path tmp) throws Exception {
        ObjectMapper m = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (Problem p : FIRST) {
            lines.add(m.createObjectNode().put("task_id", p.taskId()).put("completion", p.canonicalSolution()).toString());
        }
        lines.add(m.createObjectNode().put("task_id", FIRST.get(0).taskId()).put("completion", "    return 42\n").toString());
        Path file = Files.write(tmp.resolve("samples.jsonl"), lines);
        String out = run("evaluate", "--generations", file.toString());
        assertTrue(out.contains("failed: AssertionError"), out);
        assertTrue(out.contains("6  passed"), out);
    }

    static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Starspec.run(args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
