package dev.starspec.job.humaneval;

import java.util.Collection;

/**
 * The unbiased pass@k estimator of Chen et al. (2021): with n samples of which c pass,
 * {@code pass@k = 1 - C(n - c, k) / C(n, k)}, computed as a product to stay exact for large n.
 */
public final class PassAtK {

    /** Samples and passes for one problem. */
    public record Tally(int samples, int passed) {}

    private PassAtK() {}

    public static double estimate(int n, int c, int k) {
        if (k <= 0 || k > n) {
            throw new IllegalArgumentException("pass@" + k + " needs 1 <= k <= n = " + n);
        }
        if (n - c < k) {
            return 1.0;
        }
        double fail = 1.0;
        for (int i = n - c + 1; i <= n; i++) {
            fail *= 1.0 - (double) k / i;
        }
        return 1.0 - fail;
    }

    /** The mean over problems; every problem must have at least k samples. */
    public static double mean(Collection<Tally> problems, int k) {
        return problems.stream().mapToDouble(t -> estimate(t.samples(), t.passed(), k)).average().orElse(Double.NaN);
    }
}
