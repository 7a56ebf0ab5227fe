package dev.starspec.job.humaneval;

import dev.starspec.udfs.OutputStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One configuration's scored generations, and the figures the report shows for it.
 *
 * @param batchSize rows decoded at once, as the report states it
 */
public record ConfigResult(SweepConfig config, String model, String draft, String batchSize, List<Sample> samples) {

    /** One generation of one problem, scored. */
    public record Sample(String taskId, String id, boolean passed, String result, Double ttftMs, Double tpotMs,
                         Double acceptance, long proposed, long accepted, int completionTokens, String generation) {}

    public Map<String, PassAtK.Tally> tallies() {
        Map<String, PassAtK.Tally> t = new LinkedHashMap<>();
        for (Sample s : samples) {
            PassAtK.Tally old = t.getOrDefault(s.taskId(), new PassAtK.Tally(0, 0));
            t.put(s.taskId(), new PassAtK.Tally(old.samples() + 1, old.passed() + (s.passed() ? 1 : 0)));
        }
        return t;
    }

    public int samplesPerProblem() {
        return tallies().values().stream().mapToInt(PassAtK.Tally::samples).min().orElse(0);
    }

    public double passAt(int k) {
        return samplesPerProblem() >= k ? PassAtK.mean(tallies().values(), k) : Double.NaN;
    }

    public OutputStats.Distribution ttft() {
        return OutputStats.Distribution.of(values(samples.stream().map(Sample::ttftMs).toList()));
    }

    public OutputStats.Distribution tpot() {
        return OutputStats.Distribution.of(values(samples.stream().map(Sample::tpotMs).toList()));
    }

    /** Accepted / proposed draft tokens over all generations, NaN without speculation. */
    public double acceptance() {
        long p = samples.stream().mapToLong(Sample::proposed).sum();
        return p == 0 ? Double.NaN : (double) samples.stream().mapToLong(Sample::accepted).sum() / p;
    }

    public Map<String, Double> meanTpotByTask() {
        Map<String, List<Double>> by = new LinkedHashMap<>();
        for (Sample s : samples) {
            if (s.tpotMs() != null) {
                by.computeIfAbsent(s.taskId(), k -> new ArrayList<>()).add(s.tpotMs());
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        by.forEach((k, v) -> out.put(k, v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN)));
        return out;
    }

    public Map<String, Double> acceptanceByTask() {
        Map<String, long[]> by = new LinkedHashMap<>();
        for (Sample s : samples) {
            long[] a = by.computeIfAbsent(s.taskId(), k -> new long[2]);
            a[0] += s.accepted();
            a[1] += s.proposed();
        }
        Map<String, Double> out = new LinkedHashMap<>();
        by.forEach((k, a) -> out.put(k, a[1] == 0 ? Double.NaN : (double) a[0] / a[1]));
        return out;
    }

    static double[] values(List<Double> xs) {
        return xs.stream().filter(Objects::nonNull).mapToDouble(Double::doubleValue).toArray();
    }
}
