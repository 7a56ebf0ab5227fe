package dev.starspec.job.generate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.starspec.udfs.InputRow;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A JSONL prompt file read line by line: every non-blank line is exactly one {@link InputRow}. A line that cannot be
 * used keeps what could be read of it: its {@code id} when that much parsed, the raw line in {@code prompt}, and an
 * {@code error} that names the line, the field and the problem ({@code line 12: max_new_tokens: expected an
 * integer, got "lots"}), so the output shows which input failed and why, and loses nothing.
 *
 * <p>Fields: {@code id} (or HumanEval's {@code task_id}; a string, or an integer taken as its digits),
 * {@code prompt} (a string), and optional {@code max_new_tokens} (an integer), {@code temperature} (a number),
 * {@code stop} (a list of strings) and {@code language} (a string); null means absent, other fields are ignored. A line without an id gets
 * {@code sha256:} and the first 16 hex digits of its prompt's hash; a line whose id cannot be read gets
 * {@code file:line}. Both are stable, so {@code --mode resume} recognises them.
 */
public final class JsonlPrompts implements Iterator<InputRow> {

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final int MAX_SHOWN = 40;

    private final InputStream in;
    private final String file;
    private final String where;
    private int lineNumber;
    private InputRow next;

    /**
     * @param file the file's name, for the ids of lines without a readable one
     * @param named whether errors name the file too (the input is more than one file)
     */
    public JsonlPrompts(InputStream in, String file, boolean named) {
        this.in = in instanceof java.io.BufferedInputStream ? in : new java.io.BufferedInputStream(in, 1 << 16);
        this.file = file;
        this.where = named ? file + " line " : "line ";
    }

    public static List<InputRow> parse(byte[] content, String file) {
        List<InputRow> rows = new ArrayList<>();
        new JsonlPrompts(new java.io.ByteArrayInputStream(content), file, false).forEachRemaining(rows::add);
        return rows;
    }

    @Override
    public boolean hasNext() {
        try {
            while (next == null) {
                byte[] line = readLine();
                if (line == null) {
                    return false;
                }
                lineNumber++;
                next = row(line, lineNumber);
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " after line " + lineNumber + ": " + e.getMessage(), e);
        }
    }

    @Override
    public InputRow next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        InputRow r = next;
        next = null;
        return r;
    }

    /** One line without its terminator ({@code \n} or {@code \r\n}); null at the end of the stream. */
    private byte[] readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        if (b < 0 && line.size() == 0) {
            return null;
        }
        byte[] bytes = line.toByteArray();
        int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        int start = lineNumber == 0 && end >= 3 && (bytes[0] & 0xff) == 0xef && (bytes[1] & 0xff) == 0xbb
                && (bytes[2] & 0xff) == 0xbf ? 3 : 0; // a byte-order mark
        return java.util.Arrays.copyOfRange(bytes, start, end);
    }

    /** The row of one line, or null for a blank line. */
    private InputRow row(byte[] bytes, int number) {
        String text;
        String encodingError = null;
        try {
            text = strictUtf8().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            text = new String(bytes, StandardCharsets.UTF_8);
            encodingError = "invalid UTF-8 at byte " + (firstInvalidByte(bytes) + 1);
        }
        if (text.isBlank()) {
            return null;
        }
        Fields f = new Fields();
        String error;
        try {
            error = f.read(text);
        } catch (IOException e) {
            error = describe(e);
        }
        if (encodingError != null) {
            error = encodingError;
        }
        if (error != null) {
            return new InputRow(f.id != null ? f.id : file + ":" + number, text, null, null, null, f.language,
                    where + number + ": " + error);
        }
        String id = f.id != null ? f.id : "sha256:" + sha256(f.prompt).substring(0, 16);
        return new InputRow(id, f.prompt, f.maxNewTokens, f.temperature, f.stop, f.language, null);
    }

    /** The fields of one line, as far as they could be read. */
    private static final class Fields {
        String id;
        String taskId;
        String prompt;
        Integer maxNewTokens;
        Double temperature;
        List<String> stop;
        String language;

        /** Reads the line; the first problem found, or null. {@code id} is kept whatever comes after it. */
        String read(String text) throws IOException {
            try (JsonParser p = JSON.createParser(text)) {
                JsonToken t = p.nextToken();
                if (t != JsonToken.START_OBJECT) {
                    return "expected a JSON object, got " + shown(p, t);
                }
                String problem = null;
                boolean prompted = false;
                while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    t = p.nextToken();
                    String wrong = switch (name) {
                        case "id", "task_id" -> {
                            String v = t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NUMBER_INT ? p.getText()
                                    : null;
                            if (name.equals("id")) {
                                id = v;
                            } else {
                                taskId = v;
                            }
                            yield v != null || t == JsonToken.VALUE_NULL ? null : "expected a string";
                        }
                        case "language" -> {
                            language = t == JsonToken.VALUE_STRING ? p.getText() : null;
                            yield t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NULL ? null : "expected a string";
                        }
                        case "prompt" -> {
                            prompted = t != JsonToken.VALUE_NULL;
                            prompt = t == JsonToken.VALUE_STRING ? p.getText() : null;
                            yield t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NULL ? null : "expected a string";
                        }
                        case "max_new_tokens" -> {
                            if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
                                maxNewTokens = p.getIntValue();
                                yield null;
                            }
                            yield t == JsonToken.VALUE_NULL ? null : "expected an integer";
                        }
                        case "temperature" -> {
                            if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                                temperature = p.getDoubleValue();
                                yield null;
                            }
                            yield t == JsonToken.VALUE_NULL ? null : "expected a number";
                        }
                        case "stop" -> {
                            if (t == JsonToken.VALUE_NULL) {
                                yield null;
                            }
                            if (t != JsonToken.START_ARRAY) {
                                yield "expected a list of strings";
                            }
                            List<String> stops = new ArrayList<>();
                            String bad = null;
                            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                                if (t == JsonToken.VALUE_STRING) {
                                    stops.add(p.getText());
                                } else if (bad == null) {
                                    bad = "expected a list of strings, got an element " + shown(p, t);
                                }
                                p.skipChildren();
                            }
                            stop = stops;
                            if (bad != null) {
                                problem = problem == null ? name + ": " + bad : problem;
                            }
                            yield null;
                        }
                        default -> null;
                    };
                    if (wrong != null && problem == null) {
                        problem = name + ": " + wrong + ", got " + shown(p, t);
                    }
                    p.skipChildren();
                }
                if (id == null) {
                    id = taskId;
                }
                JsonToken after = p.nextToken();
                if (after != null) {
                    return "unexpected " + shown(p, after) + " after the JSON object";
                }
                if (problem != null) {
                    return problem;
                }
                return prompted ? null : "prompt: missing";
            }
        }
    }

    /** A value as the user wrote it, cut short; containers by their kind. */
    private static String shown(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "a list";
            case VALUE_STRING -> {
                String s = p.getText();
                yield "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(
                        s.length() > MAX_SHOWN ? s.substring(0, MAX_SHOWN) + "..." : s)) + "\"";
            }
            default -> {
                String s = p.getText();
                yield s.length() > MAX_SHOWN ? s.substring(0, MAX_SHOWN) + "..." : s;
            }
        };
    }

    private static String describe(IOException e) {
        if (e instanceof JsonEOFException eof) {
            String inside = eof.getTokenBeingDecoded() == JsonToken.VALUE_STRING ? "a string" : "the object";
            return "not valid JSON: the line ends inside " + inside + " (truncated?)";
        }
        if (e instanceof JsonParseException j) {
            String message = j.getOriginalMessage();
            int cut = message.indexOf('\n');
            message = cut > 0 ? message.substring(0, cut) : message;
            return "not valid JSON at column " + j.getLocation().getColumnNr() + ": " + message;
        }
        return "not valid JSON: " + e.getMessage();
    }

    private static CharsetDecoder strictUtf8() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** Where a strict decoder first gives up. */
    private static int firstInvalidByte(byte[] bytes) {
        CharsetDecoder d = strictUtf8();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length + 1);
        d.decode(in, out, true);
        return in.position();
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
