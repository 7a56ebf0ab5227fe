package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.Sequence;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A smaller model proposes, one token per pass over its own KV cache. Its cache is brought up to date lazily: the
 * first proposal of a generation prefills the prompt, later ones feed only the tokens the target added since.
 * A sequence longer than the draft's context is not drafted for (the target then decodes plainly).
 */
public final class ModelDrafter implements Drafter {

    private final Model draft;

    public ModelDrafter(Model draft) {
        this.draft = draft;
    }

    public Model model() {
        return draft;
    }

    @Override
    public String id() {
        return draft.id();
    }

    @Override
    public Session start(int capacity, BufferAllocator memory, TokenSampler sampler) {
        int cap = Math.min(capacity, draft.config().nPositions());
        return new DraftSession(draft.newSequence(memory, cap, draft.options().prefillChunk(), 1), sampler);
    }

    static final class DraftSession implements Session {
        private final Sequence seq;
        private final TokenSampler sampler;
        private long passes;

        DraftSession(Sequence seq, TokenSampler sampler) {
            this.seq = seq;
            this.sampler = sampler;
        }

        @Override
        public int propose(int[] tokens, int length, int k, DraftLength policy, int[] out, int offset, double[][] q) {
            // Every proposal but the last is fed back, so the cache must hold length + k - 1 positions.
            int room = seq.capacity() - length + 1;
            k = Math.min(k, room);
            if (k <= 0) {
                return 0;
            }
            int behind = length - seq.length();
            boolean confidence = policy.pMin() > 0 && sampler.greedy();
            Logits logits = seq.prefill(tokens, seq.length(), behind, confidence);
            passes += (behind + seq.model().options().prefillChunk() - 1) / seq.model().options().prefillChunk();
            for (int i = 0; i < k; i++) {
                int token;
                if (sampler.greedy()) {
                    token = logits.argmax(0);
                    if (confidence && i > 0 && logits.maxProbability(0) < policy.pMin()) {
                        return i;
                    }
                } else {
                    q[i] = sampler.distribution(logits, 0);
                    token = sampler.draw(q[i]);
                    if (policy.pMin() > 0 && i > 0 && q[i][token] < policy.pMin()) {
                        return i;
                    }
                }
                out[offset + i] = token;
                if (i + 1 < k) {
                    logits = seq.forward(out, offset + i, 1, 0, confidence);
                    passes++;
                }
            }
            return k;
        }

        Sequence sequence() {
            return seq;
        }

        @Override
        public void keep(int length) {
            if (seq.length() > length) {
                seq.rollback(length);
            }
        }

        @Override
        public long passes() {
            return passes;
        }

        @Override
        public void close() {
            seq.close();
        }
    }
}
