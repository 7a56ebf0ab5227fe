package dev.starspec.engine.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Text to calibrate SmoothQuant on. The default is MBPP's train split (tasks 601-974, CC-BY-4.0, bundled as a
 * resource so executors need no data folder): each task's description and reference code, the kind of text the
 * model completes. A user file may be JSONL or a JSON array of objects (fields {@code text}/{@code prompt} and
 * {@code code} are joined), or plain text with samples separated by blank lines.
 */
public final class CalibrationSet {

    public static final String DEFAULT_NAME = "mbpp-train (tasks 601-974)";
    private static final String RESOURCE = "mbpp-train.jsonl";

    private CalibrationSet() {}

    public static List<String> load(Path file, int samples) {
        List<String> all = file == null ? bundled() : fromFile(file);
        if (all.isEmpty()) {
            throw new IllegalArgumentException((file == null ? DEFAULT_NAME : file) + ": no calibration samples");
        }
        return List.copyOf(all.subList(0, Math.min(samples, all.size())));
    }

    public static String describe(Path file) {
        return file == null ? DEFAULT_NAME : file.toAbsolutePath().toString();
    }

    private static List<String> bundled() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                CalibrationSet.class.getResourceAsStream(RESOURCE), StandardCharsets.UTF_8))) {
            return parseJsonLines(r.lines().toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> fromFile(Path file) {
        try {
            String content = Files.readString(file);
            String trimmed = content.stripLeading();
            if (trimmed.startsWith("[")) {
                List<String> out = new ArrayList<>();
                for (JsonNode n : new ObjectMapper().readTree(trimmed)) {
                    out.add(sample(n));
                }
                return out;
            }
            if (trimmed.startsWith("{")) {
                return parseJsonLines(content.lines().toList());
            }
            List<String> out = new ArrayList<>();
            for (String block : content.split("\\n\\s*\\n")) {
                if (!block.isBlank()) {
                    out.add(block);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read calibration file " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<String> parseJsonLines(List<String> lines) throws IOException {
        ObjectMapper m = new ObjectMapper();
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            if (!line.isBlank()) {
                out.add(sample(m.readTree(line)));
            }
        }
        return out;
    }

    private static String sample(JsonNode n) {
        String text = n.path("text").asText(n.path("prompt").asText(""));
        String code = n.path("code").asText("");
        return text.isEmpty() ? code : code.isEmpty() ? text : "# " + text + "\n" + code;
    }
}
