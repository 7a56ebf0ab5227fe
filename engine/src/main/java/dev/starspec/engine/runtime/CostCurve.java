package dev.starspec.engine.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;

/**
 * What one forward pass of a model costs on this machine as a function of the tokens in it, t(M) in
 * milliseconds: measured, because it is what decides how much to batch and how far to speculate. Decoding one
 * token is bound by memory bandwidth, so t(8) is only 1.5-3x t(1) here, but the curve bends once the kernels
 * turn compute-bound, and where depends on the model, its quantization and the machine.
 *
 * <p>Each point is the median of several passes of M tokens in windows of up to {@value #WINDOW} tokens a row (the
 * shape of speculative verification: M = 4 is one row's window of 4, M = 64 sixteen rows' windows), each row with
 * {@value #PAST} cached positions and a logits row per token. Between points the curve is linear, and beyond the
 * last point it continues the last segment's slope.
 */
public final class CostCurve {

    /** Cached positions per row while measuring: about a HumanEval prompt. */
    public static final int PAST = 128;
    /** The file beside an artifact that records its curve on a machine. */
    public static final String FILE = "cost-curve.json";
    /** A drafter that runs no model costs nothing. */
    public static final CostCurve FREE = new CostCurve(new int[] {1}, new double[] {0}, "none");

    private static final int[] POINTS = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
    /** {@code bench --cost-curve}: every M up to 16, then the wider steps. */
    private static final int[] EVERY_POINT = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 24, 32, 48, 64};
    private static final int WINDOW = 4;
    /** Passes before anything is timed, for a fast model: the JIT compiles the binding first. */
    private static final int WARMUP_PASSES = 200;

    private final int[] tokens;
    private final double[] ms;
    private final String machine;

    CostCurve(int[] tokens, double[] ms, String machine) {
        if (tokens.length == 0 || tokens.length != ms.length) {
            throw new IllegalArgumentException("a cost curve needs matching token counts and times");
        }
        this.tokens = tokens.clone();
        this.ms = ms.clone();
        this.machine = machine;
    }

    /** A curve from known points (ascending token counts), e.g. measured elsewhere or for a test. */
    public static CostCurve of(String machine, int[] tokens, double[] ms) {
        return new CostCurve(tokens, ms, machine);
    }

    /** Milliseconds of a pass over {@code m} tokens; 0 for no pass at all. */
    public double passMs(int m) {
        if (m <= 0) {
            return 0;
        }
        if (tokens.length == 1) {
            return ms[0] * m / tokens[0];
        }
        int i = 1;
        while (i < tokens.length - 1 && tokens[i] < m) {
            i++;
        }
        double slope = (ms[i] - ms[i - 1]) / (tokens[i] - tokens[i - 1]);
        return Math.max(0, ms[i - 1] + slope * (m - tokens[i - 1]));
    }

    public int[] tokens() {
        return tokens.clone();
    }

    /** The most tokens measured; beyond it the curve is extrapolated. */
    public int measuredUpTo() {
        return tokens[tokens.length - 1];
    }

    public String machine() {
        return machine;
    }

    /**
     * Measures the curve. {@code thorough} takes every M up to 16, then 24 to 64, with 9 passes each; otherwise
     * the effort follows the model's speed (a 15B model gets 1 pass per point up to 16 tokens), which is what a
     * load can afford.
     */
    public static CostCurve measure(Model model, boolean thorough) {
        int past = Math.min(PAST, model.config().nPositions() / 2);
        int maxTokens = POINTS[POINTS.length - 1];
        Batch.Limits limits = new Batch.Limits(maxTokens / WINDOW, past + WINDOW, maxTokens, maxTokens);
        try (Batch batch = model.newBatch(OffHeapMemory.root(), limits)) {
            int[] ids = new Random(7).ints(maxTokens, 1, model.config().vocabSize()).toArray();
            double first = median(time(batch, ids, 1, past, 3));
            long warm = System.nanoTime();
            for (int i = 0; i < WARMUP_PASSES && System.nanoTime() - warm < 500_000_000L; i++) {
                time(batch, ids, 1 + i % WINDOW, past, 1);
            }
            int sweeps = thorough ? 9 : first < 20 ? 7 : first < 200 ? 3 : 1;
            int upTo = thorough || first < 20 ? 64 : first < 200 ? 32 : 16;
            int[] all = thorough ? EVERY_POINT : POINTS;
            int[] points = Arrays.stream(all).filter(p -> p <= upTo).toArray();
            int n = points.length;
            // Whole sweeps, interleaved, after an untimed one: a slow minute on a shared machine then shifts every
            // point alike instead of bending the curve at one of them.
            double[][] samples = new double[n][sweeps];
            for (int sweep = -1; sweep < sweeps; sweep++) {
                for (int i = 0; i < n; i++) {
                    double ms = time(batch, ids, points[i], past, 1)[0];
                    if (sweep >= 0) {
                        samples[i][sweep] = ms;
                    }
                }
            }
            double[] ms = new double[n];
            for (int i = 0; i < n; i++) {
                ms[i] = median(samples[i]);
            }
            // A pass never gets cheaper with more tokens: a point above a later one is noise.
            for (int i = n - 2; i >= 0; i--) {
                ms[i] = Math.min(ms[i], ms[i + 1]);
            }
            return new CostCurve(points, ms, machine(model.options()));
        }
    }

    /** Times {@code reps} passes of {@code m} tokens. */
    private static double[] time(Batch batch, int[] ids, int m, int past, int reps) {
        int rows = (m + WINDOW - 1) / WINDOW;
        double[] out = new double[reps];
        for (int r = 0; r < reps; r++) {
            for (int slot = 0; slot < rows; slot++) {
                batch.cache().fill(slot, past);
            }
            for (int slot = 0, done = 0; slot < rows; slot++) {
                int count = Math.min(WINDOW, m - done);
                batch.add(slot, ids, done, count, 0);
                done += count;
            }
            long start = System.nanoTime();
            batch.run(false);
            out[r] = (System.nanoTime() - start) / 1e6;
        }
        return out;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * What makes a recorded curve apply here: the CPU, its core count and the threads a pass gets. Another machine,
     * or the same one with other threads, measures again.
     */
    static String machine(RuntimeOptions options) {
        String cpu = "unknown cpu";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the core count and threads still tell machines apart
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, " + options.threads() + " threads";
    }

    /** The curve recorded beside an artifact for this machine, or null. */
    static CostCurve recorded(Path artifactDir, RuntimeOptions options) {
        Path file = artifactDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode n = new ObjectMapper().readTree(file.toFile());
            if (!machine(options).equals(n.path("machine").asText())) {
                return null;
            }
            JsonNode points = n.path("points");
            int[] t = new int[points.size()];
            double[] ms = new double[points.size()];
            for (int i = 0; i < t.length; i++) {
                t[i] = points.get(i).path("tokens").asInt();
                ms[i] = points.get(i).path("ms").asDouble();
            }
            return new CostCurve(t, ms, n.path("machine").asText());
        } catch (IOException | RuntimeException e) {
            return null; // unreadable: measure again
        }
    }

    /** Records this curve beside an artifact (atomically; false if the folder cannot be written). */
    boolean record(Path artifactDir) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("machine", machine);
        n.put("measured_at", Instant.now().toString());
        n.put("past_positions", PAST);
        ArrayNode points = n.putArray("points");
        for (int i = 0; i < tokens.length; i++) {
            points.addObject().put("tokens", tokens[i]).put("ms", ms[i]);
        }
        Path tmp = artifactDir.resolve(FILE + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.writeString(tmp, n.toPrettyString());
            try {
                Files.move(tmp, artifactDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, artifactDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
            }
            return true;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing more to do
            }
            return false;
        }
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("t(M)");
        for (int i = 0; i < tokens.length; i++) {
            s.append(String.format(" %d:%.2fms", tokens[i], ms[i]));
        }
        return s.toString();
    }
}
