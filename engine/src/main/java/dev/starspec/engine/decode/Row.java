package dev.starspec.engine.decode;

import java.util.Arrays;

/**
 * One request being decoded: its slot in the batch, its text (prompt, then generated tokens), where it stands,
 * and what speculation did for it. Driven by the decode loop only.
 */
final class Row<T> {

    /** Where a row stands. Its prompt enters the cache chunk by chunk, then it decodes until its completion ends. */
    enum Phase { PREFILL, DECODE }

    final Submission<T> submission;
    final long admittedNanos;
    final double queueMs;
    final int slot;
    final Prompt prompt;
    final Completion out;
    final TokenSampler sampler;
    final LatencyClock clock;
    /** The prompt, then every generated token; {@code length} of them are known. */
    final int[] text;
    int length;
    Phase phase = Phase.PREFILL;
    /** Prompt tokens in the target's cache so far (prefill). */
    int prefilled;
    /** Whether the draft model's context can hold this row's text (a longer row decodes plainly). */
    boolean draftable;

    // This step's speculation: up to k proposals were asked for, n were made, window[1..n] holds them after the
    // newest token in window[0]; q[i] is the distribution proposal i was drawn from (rejection sampling only).
    int k;
    int n;
    final int[] window;
    final double[][] q;
    /** The row's first logits row in the current target pass. */
    int logitsRow;
    /**
     * This step's one proposal is a free prompt-lookup guess in the pass's spare slot (not the draft's): it costs
     * nothing, and counts in no draft statistic.
     */
    boolean spareGuess;

    long targetPasses;
    long draftPasses;
    long proposed;
    long accepted;
    long steps;
    /** Proposals the target actually tested (those after a rejection are never looked at) and how many it kept. */
    long tested;

    Row(Submission<T> submission, long admittedNanos, int slot, Prompt prompt, Completion out, TokenSampler sampler,
        LatencyClock clock, int maxDraft) {
        this.submission = submission;
        this.admittedNanos = admittedNanos;
        this.queueMs = Math.max(0, (admittedNanos - submission.readNanos()) / 1e6);
        this.slot = slot;
        this.prompt = prompt;
        this.out = out;
        this.sampler = sampler;
        this.clock = clock;
        this.text = Arrays.copyOf(prompt.tokens(), prompt.length() + prompt.maxNewTokens());
        this.length = prompt.length();
        this.window = new int[maxDraft + 1];
        this.q = new double[maxDraft][];
    }

    /** The newest token: generated, not yet in the target's cache. */
    int newest() {
        return text[length - 1];
    }

    /** Completion position of the next token to be generated (0 for the first). */
    int position() {
        return out.count();
    }

    /** Appends a generated token; true when the generation is over. */
    boolean emit(int token) {
        text[length++] = token;
        return out.add(token);
    }

    /** Running per-token acceptance with {@code weight} pseudo-trials of the prior {@code prior}. */
    double acceptance(double prior, double weight) {
        return (accepted + prior * weight) / (tested + weight);
    }

    Generation generation(boolean speculating) {
        return out.toGeneration(clock, prompt.length(), targetPasses,
                speculating ? new DraftStats(proposed, accepted, steps, draftPasses) : null);
    }
}
