package dev.starspec.job.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a terminal shows when log lines arrive on standard error while the line is drawn on standard output. */
class ConsoleLineTest {

    @Test
    void logLinesLandAboveTheLineNeverInsideIt() {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(terminal, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(terminal, true, StandardCharsets.UTF_8);
        ConsoleLine line = new ConsoleLine(out, err);

        line.show("starspec: 1/10 rows (10.0%) | ETA 9s");
        line.stderr().println("17:00:59 INFO GeneratePartition: partition done");
        line.show("starspec: 5/10 rows (50.0%) | 1,432 tokens/s | ETA 4s");
        assertEquals(List.of("17:00:59 INFO GeneratePartition: partition done",
                "starspec: 5/10 rows (50.0%) | 1,432 tokens/s | ETA 4s"), screen(terminal));

        line.stderr().print("a log line written ");
        line.show("starspec: 6/10 rows (60.0%) | ETA 3s"); // waits: it would land after the half-written line
        line.stderr().print("in two pieces\n");
        line.above(() -> out.println("starspec: batch 1/1 committed"));
        line.show("starspec: 10/10 rows (100.0%) | done in 9s");
        line.close();
        err.println("after the line");
        line.stderr().println("a stream kept from before the close"); // passes through, no line redrawn after it
        out.println("standard output");

        assertEquals(List.of("17:00:59 INFO GeneratePartition: partition done",
                "a log line written in two pieces",
                "starspec: batch 1/1 committed",
                "starspec: 10/10 rows (100.0%) | done in 9s",
                "after the line",
                "a stream kept from before the close",
                "standard output"), screen(terminal));
    }

    @Test
    void printingAboveAnUnfinishedErrorLineEndsItFirst() {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(terminal, true, StandardCharsets.UTF_8);
        ConsoleLine line = new ConsoleLine(out, new PrintStream(terminal, true, StandardCharsets.UTF_8));
        line.show("starspec: 1/2 rows");
        line.stderr().print("half a log line");
        line.above(() -> out.println("starspec: batch 1/2 committed"));
        line.stderr().println("the rest of it");
        line.close();
        assertEquals(List.of("half a log line", "starspec: batch 1/2 committed", "the rest of it", "starspec: 1/2 rows"),
                screen(terminal));
    }

    /** The lines a terminal would show for these bytes: {@code \r} returns to the first column, text overwrites. */
    static List<String> screen(ByteArrayOutputStream terminal) {
        List<String> lines = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int column = 0;
        for (char c : terminal.toString(StandardCharsets.UTF_8).toCharArray()) {
            if (c == '\n') {
                lines.add(current.toString().stripTrailing());
                current.setLength(0);
                column = 0;
            } else if (c == '\r') {
                column = 0;
            } else {
                if (column < current.length()) {
                    current.setCharAt(column, c);
                } else {
                    current.append(c);
                }
                column++;
            }
        }
        if (!current.toString().isBlank()) {
            lines.add(current.toString().stripTrailing());
        }
        return lines;
    }
}
