package dev.starspec.job.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.starspec.udfs.InputRow;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every non-blank line is one row; a bad line keeps its id and raw text and says which field is wrong and how. */
class JsonlPromptsTest {

    private static List<InputRow> parse(String... lines) {
        return JsonlPrompts.parse(String.join("\n", lines).getBytes(StandardCharsets.UTF_8), "p.jsonl");
    }

    private static InputRow one(String line) {
        List<InputRow> rows = parse(line);
        assertEquals(1, rows.size());
        return rows.get(0);
    }

    @Test
    void goodLinesCarryTheirSettings() {
        InputRow r = one("{\"id\": \"a\", \"prompt\": \"def f():\", \"max_new_tokens\": 12, \"temperature\": 0.5, "
                + "\"stop\": [\"\\n\\n\", \"#\"], \"extra\": {\"ignored\": [1, 2]}}");
        assertEquals(new InputRow("a", "def f():", 12, 0.5, List.of("\n\n", "#"), null, null), r);
        assertEquals(new InputRow("7", "x", null, 1.0, null, null, null),
                one("{\"id\": 7, \"prompt\": \"x\", \"temperature\": 1, \"max_new_tokens\": null, \"stop\": null}"));
        assertEquals("HumanEval/3", one("{\"task_id\": \"HumanEval/3\", \"prompt\": \"x\"}").id());
    }

    @Test
    void aLineWithoutAnIdIsNamedByItsPromptsHash() {
        // the first 16 hex digits of SHA-256("def f():"), as Spark's sha2 gives them: stable across runs for resume
        assertEquals("sha256:" + JsonlPrompts.sha256("def f():").substring(0, 16), one("{\"prompt\": \"def f():\"}").id());
        assertEquals("sha256:e3568148b125be1a", "sha256:" + JsonlPrompts.sha256("def f():").substring(0, 16));
    }

    @Test
    void wrongTypesKeepTheIdAndNameLineAndField() {
        List<InputRow> rows = parse(
                "{\"id\": \"ok\", \"prompt\": \"x\"}",
                "{\"id\": \"a\", \"prompt\": \"x\", \"max_new_tokens\": \"lots\"}",
                "{\"id\": \"b\", \"prompt\": \"x\", \"stop\": \"\\n\"}",
                "{\"id\": \"c\", \"prompt\": \"x\", \"temperature\": \"hot\"}",
                "{\"id\": \"d\", \"prompt\": 12}",
                "{\"id\": \"e\", \"prompt\": \"x\", \"max_new_tokens\": 64.5}",
                "{\"id\": \"f\", \"prompt\": \"x\", \"stop\": [\"a\", 3]}",
                "{\"id\": \"g\"}",
                "{\"id\": [\"h\"], \"prompt\": \"x\"}");
        assertNull(rows.get(0).error());
        assertEquals(List.of("ok", "a", "b", "c", "d", "e", "f", "g", "p.jsonl:9"), rows.stream().map(InputRow::id).toList());
        assertEquals(List.of(
                "line 2: max_new_tokens: expected an integer, got \"lots\"",
                "line 3: stop: expected a list of strings, got \"\\n\"",
                "line 4: temperature: expected a number, got \"hot\"",
                "line 5: prompt: expected a string, got 12",
                "line 6: max_new_tokens: expected an integer, got 64.5",
                "line 7: stop: expected a list of strings, got an element 3",
                "line 8: prompt: missing",
                "line 9: id: expected a string, got a list"),
                rows.subList(1, rows.size()).stream().map(InputRow::error).toList());
        assertEquals("{\"id\": \"a\", \"prompt\": \"x\", \"max_new_tokens\": \"lots\"}", rows.get(1).prompt(),
                "the raw line is kept");
        assertNull(rows.get(1).maxNewTokens());
    }

    @Test
    void brokenJsonKeepsWhatWasReadBeforeTheBreak() {
        List<InputRow> rows = parse(
                "{\"id\": \"t\", \"prompt\": \"def f(",
                "{\"prompt\": \"x\", \"id\": \"u\"",
                "not json",
                "[1, 2]",
                "{\"id\": \"v\", \"prompt\": \"x\"} {\"id\": \"w\"}",
                "{\"id\": \"x\", \"id\": \"y\", \"prompt\": \"x\"}");
        assertEquals(List.of("t", "u", "p.jsonl:3", "p.jsonl:4", "v", "x"), rows.stream().map(InputRow::id).toList());
        assertEquals("line 1: not valid JSON: the line ends inside a string (truncated?)", rows.get(0).error());
        assertEquals("line 2: not valid JSON: the line ends inside the object (truncated?)", rows.get(1).error());
        assertEquals("line 3: not valid JSON at column 1: Unrecognized token 'not': was expecting (JSON String, Number, "
                + "Array, Object or token 'null', 'true' or 'false')", rows.get(2).error());
        assertEquals("line 4: expected a JSON object, got a list", rows.get(3).error());
        assertEquals("line 5: unexpected an object after the JSON object", rows.get(4).error());
        assertEquals("line 6: not valid JSON at column 17: Duplicate field 'id'", rows.get(5).error());
        assertEquals("not json", rows.get(2).prompt());
    }

    @Test
    void invalidUtf8IsReportedAsSuchWithItsId() throws IOException {
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.write("{\"id\": \"bad-bytes\", \"prompt\": \"caf".getBytes(StandardCharsets.UTF_8));
        in.write(new byte[] {(byte) 0xc3, (byte) 0x28});
        in.write("\"}\r\n\r\n   \n{\"id\": \"after\", \"prompt\": \"caf\u00e9\"}\n".getBytes(StandardCharsets.UTF_8));
        List<InputRow> rows = JsonlPrompts.parse(in.toByteArray(), "p.jsonl");
        assertEquals(2, rows.size(), "blank lines give no row");
        assertEquals("bad-bytes", rows.get(0).id());
        assertEquals("line 1: invalid UTF-8 at byte 35", rows.get(0).error());
        assertEquals(new InputRow("after", "caf\u00e9", null, null, null, null, null), rows.get(1));
    }

    @Test
    void errorsNameTheFileWhenTheInputHasSeveral() {
        List<InputRow> rows = new java.util.ArrayList<>();
        new JsonlPrompts(new java.io.ByteArrayInputStream("\n{\"id\": 1.5}".getBytes(StandardCharsets.UTF_8)),
                "part-2.jsonl", true).forEachRemaining(rows::add);
        assertEquals(List.of(new InputRow("part-2.jsonl:2", "{\"id\": 1.5}", null, null, null, null,
                "part-2.jsonl line 2: id: expected a string, got 1.5")), rows);
    }

    @Test
    void aByteOrderMarkIsNotPartOfTheFirstLine() {
        byte[] bom = {(byte) 0xef, (byte) 0xbb, (byte) 0xbf};
        byte[] line = "{\"id\": \"a\", \"prompt\": \"x\"}".getBytes(StandardCharsets.UTF_8);
        byte[] both = new byte[bom.length + line.length];
        System.arraycopy(bom, 0, both, 0, 3);
        System.arraycopy(line, 0, both, 3, line.length);
        assertNull(JsonlPrompts.parse(both, "p.jsonl").get(0).error());
    }
}
