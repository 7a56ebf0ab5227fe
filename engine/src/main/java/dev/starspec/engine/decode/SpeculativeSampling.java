package dev.starspec.engine.decode;

/**
 * How speculation samples when the temperature is above zero. Both keep the target's distribution exactly.
 */
public enum SpeculativeSampling {
    /**
     * Draft and target share each position's Gumbel noise: a proposal is kept when it is the token the target
     * itself samples there. The output is byte for byte what plain sampling with the same seed returns, whatever
     * the draft, the draft length or the batch, so speculation changes only the latency.
     */
    COUPLED,
    /**
     * Leviathan et al.'s rejection sampling: keep a proposal x with probability min(1, p(x) / q(x)), replace a
     * rejection with a draw from norm(max(0, p - q)). It accepts at least as often as coupling, but its output
     * depends on which positions were drafted, so on the draft lengths the scheduler picks.
     */
    REJECTION
}
