package dev.starspec.job.generate;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;

/**
 * The last line of a terminal, redrawn in place, with whatever else the process prints kept above it.
 *
 * <p>In local mode Spark runs the executors in the driver's JVM, so their log lines reach the same terminal while
 * the line is drawn; written as they come they would land in the middle of it. Everything written to standard
 * error while the line is shown therefore goes through {@link #stderr()}: the line is erased, the text written, and
 * the line drawn again once the text ends its own line. (conf/log4j2.properties has the console appender follow
 * {@code System.setErr} for this.)
 */
final class ConsoleLine implements AutoCloseable {

    private final PrintStream out;
    private final PrintStream err;
    private final PrintStream stderr;
    private String text = "";
    /** Columns the drawn line takes on the terminal now (0 when erased). */
    private int width;
    /** Standard error has written part of a line: drawing now would append to it. */
    private boolean midLine;
    /** After close, writes pass straight through: a stream captured while the line was shown may outlive it. */
    private boolean closed;

    /** A line on {@code out}, with text for {@code err} printed above it through {@link #stderr()}. */
    ConsoleLine(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
        this.stderr = new PrintStream(new Above(), true, Charset.defaultCharset());
    }

    /** A line on standard output with System.err routed above it, or null when standard output is no terminal. */
    static ConsoleLine onTerminal() {
        if (System.console() == null) {
            return null;
        }
        ConsoleLine line = new ConsoleLine(System.out, System.err);
        System.setErr(line.stderr);
        return line;
    }

    /** The stream that prints above the line. */
    PrintStream stderr() {
        return stderr;
    }

    /** Draws {@code text} in place of what the line showed. */
    synchronized void show(String text) {
        this.text = text;
        if (!midLine && !closed) {
            draw();
        }
    }

    /**
     * Runs {@code print} (which writes whole lines to standard output) with the line out of its way. It runs under
     * this line's lock, so it must not log: a logging thread holds the logger's lock while it waits for this one.
     */
    synchronized void above(Runnable print) {
        if (closed) {
            print.run();
            return;
        }
        if (midLine) { // end standard error's unfinished line rather than print into it
            err.println();
            midLine = false;
        }
        erase();
        print.run();
        out.flush();
        draw();
    }

    /** Leaves the line's last text on the terminal, followed by a newline, and gives System.err back. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (midLine) {
            err.println();
            midLine = false;
        }
        draw();
        out.println();
        out.flush();
        width = 0;
        if (System.err == stderr) { // only onTerminal() puts it there
            System.setErr(err);
        }
    }

    private void draw() {
        // Pad with spaces over what a longer previous text left; \r alone does not clear.
        out.print("\r" + text + " ".repeat(Math.max(0, width - text.length())));
        out.flush();
        width = text.length();
    }

    private void erase() {
        if (width > 0) {
            out.print("\r" + " ".repeat(width) + "\r");
            out.flush();
            width = 0;
        }
    }

    private final class Above extends OutputStream {

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (len == 0) {
                return;
            }
            synchronized (ConsoleLine.this) {
                if (closed) {
                    err.write(b, off, len);
                    err.flush();
                    return;
                }
                if (!midLine) {
                    erase();
                }
                err.write(b, off, len);
                err.flush();
                midLine = b[off + len - 1] != '\n';
                if (!midLine) {
                    draw();
                }
            }
        }

        @Override
        public void flush() {
            err.flush();
        }
    }
}
