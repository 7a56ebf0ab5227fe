package dev.starspec.engine.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** HumanEval's 164 problems from data/humaneval, as test inputs. */
public final class HumanEvalTexts {

    private HumanEvalTexts() {}

    public static List<JsonNode> problems() {
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper m = new ObjectMapper();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                Files.newInputStream(ProjectFiles.data("humaneval/HumanEval.jsonl.gz"))), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    out.add(m.readTree(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    public static List<String> prompts() {
        return problems().stream().map(p -> p.get("prompt").asText()).toList();
    }

    /** Prompt and canonical solution: held-out code for perplexity. */
    public static List<String> solvedPrograms() {
        return problems().stream().map(p -> p.get("prompt").asText() + p.get("canonical_solution").asText()).toList();
    }
}
