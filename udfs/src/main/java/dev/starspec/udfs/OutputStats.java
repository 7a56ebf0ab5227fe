package dev.starspec.udfs;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Figures over output rows: how many, how many failed, tokens, latency distributions and draft acceptance.
 * Mergeable (a partition's, then the job's), and the one definition of quantiles that the partition log, the job
 * summary, the HumanEval report and {@code bench} share.
 */
public final class OutputStats implements Serializable {

    private static final long serialVersionUID = 1L;

    private String model;
    private String draft;
    private long rows;
    private long errors;
    private long completionTokens;
    private long proposed;
    private long accepted;
    private final Values ttft = new Values();
    private final Values tpot = new Values();
    private final Values queue = new Values();

    public OutputStats add(OutputRow r) {
        model = model != null ? model : r.model();
        draft = draft != null ? draft : r.draft();
        rows++;
        if (r.failed()) {
            errors++;
        } else {
            completionTokens += r.completionTokens() == null ? 0 : r.completionTokens();
            ttft.add(r.ttftMs());
            tpot.add(r.tpotMs());
        }
        queue.add(r.queueMs());
        if (r.draftTokensProposed() != null) {
            proposed += r.draftTokensProposed();
            accepted += r.draftTokensAccepted();
        }
        return this;
    }

    public static OutputStats of(Iterable<OutputRow> rows) {
        OutputStats s = new OutputStats();
        rows.forEach(s::add);
        return s;
    }

    /** This and {@code other} together (this one, updated). */
    public OutputStats merge(OutputStats other) {
        model = model != null ? model : other.model;
        draft = draft != null ? draft : other.draft;
        rows += other.rows;
        errors += other.errors;
        completionTokens += other.completionTokens;
        proposed += other.proposed;
        accepted += other.accepted;
        ttft.addAll(other.ttft);
        tpot.addAll(other.tpot);
        queue.addAll(other.queue);
        return this;
    }

    /** The model the rows name (the first seen), or null. */
    public String model() {
        return model;
    }

    /** The draft the rows name (the first seen), or null without one. */
    public String draft() {
        return draft;
    }

    public long rows() {
        return rows;
    }

    public long errors() {
        return errors;
    }

    public long completionTokens() {
        return completionTokens;
    }

    public long proposed() {
        return proposed;
    }

    public long accepted() {
        return accepted;
    }

    /** Accepted / proposed draft tokens; NaN without speculation. */
    public double acceptance() {
        return proposed == 0 ? Double.NaN : (double) accepted / proposed;
    }

    public Distribution ttftMs() {
        return ttft.distribution();
    }

    public Distribution tpotMs() {
        return tpot.distribution();
    }

    public Distribution queueMs() {
        return queue.distribution();
    }

    /** A sorted sample. */
    public record Distribution(double[] sorted) {

        public static Distribution of(double... values) {
            double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
            return new Distribution(v);
        }

        public int count() {
            return sorted.length;
        }

        /** The q-quantile, interpolating linearly between order statistics; NaN for no values. */
        public double quantile(double q) {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            double pos = q * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(sorted.length - 1, lo + 1);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }

        public double median() {
            return quantile(0.5);
        }

        public double mean() {
            return sorted.length == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(Double.NaN);
        }
    }

    /** A growable list of the non-null values of one column. */
    private static final class Values implements Serializable {
        private static final long serialVersionUID = 1L;
        private double[] v = new double[16];
        private int n;

        void add(Double x) {
            if (x == null || x.isNaN()) {
                return;
            }
            if (n == v.length) {
                v = Arrays.copyOf(v, 2 * n);
            }
            v[n++] = x;
        }

        void addAll(Values o) {
            for (int i = 0; i < o.n; i++) {
                add(o.v[i]);
            }
        }

        Distribution distribution() {
            double[] s = Arrays.copyOf(v, n);
            Arrays.sort(s);
            return new Distribution(s);
        }
    }
}
