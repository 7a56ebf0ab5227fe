package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.Sequence;
import java.util.Arrays;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Speculative decoding (Leviathan et al. 2023; Chen et al. 2023): a drafter proposes K tokens, the target
 * scores all of them in one pass, and the longest prefix the target agrees with is kept, plus one token of the
 * target's own. Decoding is memory-bound, so a pass over K + 1 tokens costs about as much as a pass over one.
 *
 * <p>Greedy: a proposal is accepted when it equals the target's argmax, so the output is token for token the
 * target's own greedy output. Sampling: a proposal x drawn from q is accepted with probability
 * min(1, p(x) / q(x)), a rejection is replaced by a draw from norm(max(0, p - q)); the output is distributed as
 * sampling from the target alone.
 */
public final class SpeculativeDecoder implements Decoder {

    private final Model target;
    private final Drafter drafter;
    private final DraftLength length;
    private final BufferAllocator memory;
    private final ContextPolicy policy;
    /** Sees both sequences after every verification step; tests check the caches there. */
    private final StepObserver observer;

    /**
     * Called after each verification step with both sequences and the text so far.
     *
     * @param endedInRun the generation ended on an accepted proposal (a stop sequence, EOS or max new tokens
     *     inside the accepted run) rather than on a token of the target's own
     */
    interface StepObserver {
        StepObserver NONE = (verifier, draft, text, length, proposed, kept, endedInRun) -> { };

        void afterStep(Sequence verifier, Drafter.Session draft, int[] text, int length, int proposed, int kept,
                       boolean endedInRun);
    }

    public SpeculativeDecoder(Model target, Drafter drafter, DraftLength length, BufferAllocator memory,
                              ContextPolicy policy) {
        this(target, drafter, length, memory, policy, StepObserver.NONE);
    }

    SpeculativeDecoder(Model target, Drafter drafter, DraftLength length, BufferAllocator memory,
                              ContextPolicy policy, StepObserver observer) {
        if (drafter instanceof ModelDrafter m) {
            requireSameTokens(target, m.model());
        }
        this.target = target;
        this.drafter = drafter;
        this.length = length;
        this.memory = memory;
        this.policy = policy;
        this.observer = observer;
    }

    /** Draft token ids mean something to the target only if both use the same vocabulary. */
    static void requireSameTokens(Model target, Model draft) {
        String t = target.artifact().manifest().tokenizerFingerprint();
        String d = draft.artifact().manifest().tokenizerFingerprint();
        if (!t.equals(d) || target.config().vocabSize() != draft.config().vocabSize()) {
            throw new IllegalArgumentException("draft " + draft.id() + " (" + draft.artifact().dir() + ") does not share "
                    + "the tokenizer of target " + target.id() + " (vocabulary " + draft.config().vocabSize() + " vs "
                    + target.config().vocabSize() + ", tokenizer fingerprint " + d.substring(0, 12) + " vs "
                    + t.substring(0, 12) + "): speculative decoding needs identical token ids");
        }
    }

    @Override
    public Generation generate(GenerationRequest request) {
        LatencyClock clock = new LatencyClock();
        Prompt prompt = Prompt.of(target, request, policy);
        Completion out = new Completion(target.tokenizer(), target.config().eosTokenId(), prompt.maxNewTokens(),
                request.stop());
        TokenSampler sampler = new TokenSampler(request.sampling());
        int maxK = length.max();
        int[] text = Arrays.copyOf(prompt.tokens(), prompt.length() + prompt.maxNewTokens());
        int textLength = prompt.length();
        int[] window = new int[maxK + 1];
        double[][] q = new double[maxK][];
        long proposed = 0;
        long accepted = 0;
        long passes = 0;
        try (Sequence verifier = target.newSequence(memory, prompt.capacity(), prompt.stepTokens(target, maxK + 1), maxK + 1);
             Drafter.Session draft = drafter.start(prompt.capacity(), memory, sampler)) {
            Logits logits = verifier.prefill(prompt.tokens(), 0, prompt.length());
            int newest = sampler.next(logits, 0);
            clock.tokensOut();
            text[textLength++] = newest;
            boolean done = out.add(newest);
            DraftLength.State k = length.start();
            while (!done) {
                // Invariant: the target's cache holds every token of `text` but the newest one.
                // A pass yields at most n + 1 tokens, so never propose past max new tokens.
                int n = draft.propose(text, textLength, Math.min(k.current(), out.remaining() - 1), length, window, 1, q);
                window[0] = newest;
                logits = verifier.forward(window, 0, n + 1, 0); // row i: the target's next token after window[0..i]
                passes++;
                proposed += n;

                int kept = 0;
                while (kept < n && !done && agrees(sampler, logits, kept, window[kept + 1], q[kept])) {
                    text[textLength++] = window[kept + 1];
                    done = out.add(window[kept + 1]); // a stop sequence or EOS may land inside the accepted run
                    kept++;
                }
                boolean endedInRun = done;
                if (!done) {
                    // The correction after a rejection, or the bonus token when every proposal was accepted.
                    newest = kept < n ? corrected(sampler, logits, kept, window[kept + 1], q[kept]) : sampler.next(logits, n);
                    text[textLength++] = newest;
                    done = out.add(newest);
                }
                clock.tokensOut();
                accepted += kept;
                k.update(kept, n);
                // Keep window[0..kept] in the target's cache; the newest token is fed by the next pass.
                verifier.rollback(verifier.length() - n + kept);
                draft.keep(textLength - 1);
                observer.afterStep(verifier, draft, text, textLength, n, kept, endedInRun);
            }
            return out.toGeneration(clock, prompt.length(), new DraftStats(proposed, accepted, passes, draft.passes()));
        }
    }

    /** Whether the target keeps proposal x at row i: greedy, it must be the argmax; sampling, min(1, p/q) odds. */
    private static boolean agrees(TokenSampler sampler, Logits logits, int row, int x, double[] q) {
        if (sampler.greedy()) {
            return logits.argmax(row) == x;
        }
        double p = sampler.distribution(logits, row)[x];
        double qx = q == null ? 1 : q[x];
        return sampler.uniform() < Math.min(1, p / qx);
    }

    /** After rejecting x at row i: greedy, the argmax; sampling, a draw from norm(max(0, p - q)). */
    private static int corrected(TokenSampler sampler, Logits logits, int row, int x, double[] q) {
        if (sampler.greedy()) {
            return logits.argmax(row);
        }
        double[] p = sampler.distribution(logits, row);
        double[] residual = new double[p.length];
        double sum = 0;
        for (int t = 0; t < p.length; t++) {
            double qt = q == null ? (t == x ? 1 : 0) : q[t];
            residual[t] = Math.max(0, p[t] - qt);
            sum += residual[t];
        }
        if (sum <= 0) {
            return sampler.draw(p); // p == q: rejection had probability zero; any draw from p is correct
        }
        for (int t = 0; t < residual.length; t++) {
            residual[t] /= sum;
        }
        return sampler.draw(residual);
    }

    @Override
    public String targetId() {
        return target.id();
    }

    @Override
    public String draftId() {
        return drafter.id();
    }
}
