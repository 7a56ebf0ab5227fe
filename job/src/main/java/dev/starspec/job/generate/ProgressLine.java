package dev.starspec.job.generate;

import dev.starspec.udfs.GeneratePartition;
import java.util.Map;
import java.util.function.Consumer;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Tuple4;

/**
 * The live progress line of a run whose driver has a terminal: rows done of the total, tokens per second, the time
 * left at the pace so far, and errors, redrawn in place twice a second.
 *
 * <p>The figures are the job's accumulators: what finished tasks reported, plus what running tasks reported in
 * their last executor heartbeat (Spark sends the accumulators of running tasks with each heartbeat; their merged
 * value changes only when a task ends, and a task decodes a whole partition).
 */
public final class ProgressLine extends SparkListener implements AutoCloseable {

    /** What the line shows, at one moment. */
    public record Snapshot(long rows, long tokens, long errors, double seconds) {}

    private final SparkContext sc;
    private final GeneratePartition.Progress progress;
    private final long total;
    private final ConsoleLine console;
    private final long start = System.nanoTime();
    /** Per running task: its last reported rows, tokens and errors. */
    private final Map<Long, long[]> running = new ConcurrentHashMap<>();
    private final Thread painter;
    private volatile boolean closed;

    private ProgressLine(SparkContext sc, GeneratePartition.Progress progress, long total, ConsoleLine console) {
        this.sc = sc;
        this.progress = progress;
        this.total = total;
        this.console = console;
        sc.addSparkListener(this);
        painter = new Thread(() -> {
            while (!closed) {
                console.show(render(snapshot(), total));
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "starspec-progress");
        painter.setDaemon(true);
        painter.start();
    }

    /**
     * A line on standard output when it is a terminal; otherwise nothing (null). While it is shown, what is written
     * to standard error (the executors' log lines in local mode) prints above it.
     */
    public static ProgressLine start(SparkContext sc, GeneratePartition.Progress progress, long total) {
        ConsoleLine console = total == 0 ? null : ConsoleLine.onTerminal();
        if (console == null) {
            return null;
        }
        try {
            return new ProgressLine(sc, progress, total, console);
        } catch (RuntimeException | Error e) {
            console.close(); // gives System.err back
            throw e;
        }
    }

    /** {@code log}, printing above the line. */
    public Consumer<String> above(Consumer<String> log) {
        return message -> console.above(() -> log.accept(message));
    }

    /** {@code 1,234/5,000 rows (24.7%) | 3,210 tokens/s | ETA 2m05s | 3 errors} */
    public static String render(Snapshot s, long total) {
        long rows = Math.min(s.rows(), total);
        StringBuilder line = new StringBuilder(String.format("starspec: %,d/%,d rows (%.1f%%)", rows, total,
                total == 0 ? 100.0 : 100.0 * rows / total));
        if (s.seconds() > 0) {
            line.append(String.format(" | %,.0f tokens/s", s.tokens() / s.seconds()));
        }
        if (rows >= total) {
            line.append(String.format(" | done in %s", duration(s.seconds())));
        } else if (rows > 0) {
            line.append(" | ETA ").append(duration(s.seconds() * (total - rows) / rows));
        } else {
            line.append(" | ETA --");
        }
        if (s.errors() > 0) {
            line.append(String.format(" | %,d error%s", s.errors(), s.errors() == 1 ? "" : "s"));
        }
        return line.toString();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format("%dm%02ds", s / 60, s % 60);
        }
        return String.format("%dh%02dm", s / 3600, s % 3600 / 60);
    }

    /** Finished tasks' values plus running tasks' last heartbeat. */
    public Snapshot snapshot() {
        long rows = progress.prompts().value();
        long tokens = progress.tokens().value();
        long errors = progress.errors().value();
        for (long[] v : running.values()) {
            rows += v[0];
            tokens += v[1];
            errors += v[2];
        }
        return new Snapshot(rows, tokens, errors, (System.nanoTime() - start) / 1e9);
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        scala.collection.Iterator<Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>>> it =
                update.accumUpdates().iterator();
        while (it.hasNext()) {
            Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> task = it.next();
            long[] values = new long[3];
            boolean ours = false;
            scala.collection.Iterator<AccumulableInfo> infos = task._4().iterator();
            while (infos.hasNext()) {
                AccumulableInfo info = infos.next();
                int slot = info.id() == progress.prompts().id() ? 0 : info.id() == progress.tokens().id() ? 1
                        : info.id() == progress.errors().id() ? 2 : -1;
                if (slot >= 0 && info.update().isDefined()) {
                    values[slot] = ((Number) info.update().get()).longValue();
                    ours = true;
                }
            }
            if (ours) {
                running.put((Long) task._1(), values);
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        running.remove(end.taskInfo().taskId()); // its values are in the accumulators now
    }

    @Override
    public void close() {
        closed = true;
        painter.interrupt();
        try {
            painter.join(); // a last redraw of the painter's must not follow the final line
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        console.show(render(snapshot(), total));
        console.close();
        sc.removeSparkListener(this);
    }
}
