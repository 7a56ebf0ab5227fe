package dev.starspec.job.humaneval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Reads HumanEval problem files (JSONL, gzipped or not). */
public final class Problems {

    private Problems() {}

    public static List<Problem> load(Path file) {
        ObjectMapper m = new ObjectMapper();
        List<Problem> out = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            int lineNo = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = m.readTree(line);
                for (String key : new String[] {"task_id", "prompt", "test", "entry_point"}) {
                    if (!n.hasNonNull(key)) {
                        throw new IllegalArgumentException(file + ":" + lineNo + ": missing " + key);
                    }
                }
                out.add(new Problem(n.get("task_id").asText(), n.get("prompt").asText(),
                        n.path("canonical_solution").asText(""), n.get("test").asText(), n.get("entry_point").asText()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read problems " + file + ": " + e.getMessage(), e);
        }
        return out;
    }
}
