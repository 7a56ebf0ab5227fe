package dev.starspec.job.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The progress line as it reads for a run's successive accumulator values. */
class ProgressLineTest {

    @Test
    void aRunFromStartToEnd() {
        long total = 5000;
        List<ProgressLine.Snapshot> run = List.of(
                new ProgressLine.Snapshot(0, 0, 0, 0),
                new ProgressLine.Snapshot(0, 1200, 0, 1.5),
                new ProgressLine.Snapshot(1234, 96300, 3, 30),
                new ProgressLine.Snapshot(4999, 390000, 1, 7265),
                new ProgressLine.Snapshot(5002, 390100, 1, 7300));
        assertEquals(List.of(
                "starspec: 0/5,000 rows (0.0%) | ETA --",
                "starspec: 0/5,000 rows (0.0%) | 800 tokens/s | ETA --",
                "starspec: 1,234/5,000 rows (24.7%) | 3,210 tokens/s | ETA 1m32s | 3 errors",
                "starspec: 4,999/5,000 rows (100.0%) | 54 tokens/s | ETA 1s | 1 error",
                "starspec: 5,000/5,000 rows (100.0%) | 53 tokens/s | done in 2h01m | 1 error"),
                run.stream().map(s -> ProgressLine.render(s, total)).toList());
    }

    @Test
    void durations() {
        assertEquals(List.of("0s", "59s", "1m00s", "59m59s", "1h00m", "27h46m"),
                List.of(0.2, 59.0, 60.0, 3599.0, 3600.0, 100_000.0).stream().map(ProgressLine::duration).toList());
    }
}
