package dev.starspec.engine.decode;

import dev.starspec.engine.runtime.Logits;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.Sequence;
import org.apache.arrow.memory.BufferAllocator;

/** One target pass per token: the baseline that speculative decoding must reproduce exactly when greedy. */
public final class AutoregressiveDecoder implements Decoder {

    private final Model model;
    private final BufferAllocator memory;
    private final ContextPolicy policy;

    public AutoregressiveDecoder(Model model, BufferAllocator memory, ContextPolicy policy) {
        this.model = model;
        this.memory = memory;
        this.policy = policy;
    }

    @Override
    public Generation generate(GenerationRequest request) {
        LatencyClock clock = new LatencyClock();
        Prompt prompt = Prompt.of(model, request, policy);
        Completion out = new Completion(model.tokenizer(), model.config().eosTokenId(), prompt.maxNewTokens(),
                request.stop());
        TokenSampler sampler = new TokenSampler(request.sampling());
        int[] next = new int[1];
        try (Sequence seq = model.newSequence(memory, prompt.capacity(), prompt.stepTokens(model, 1), 1)) {
            Logits logits = seq.prefill(prompt.tokens(), 0, prompt.length());
            while (true) {
                next[0] = sampler.next(logits, 0);
                clock.tokensOut();
                if (out.add(next[0])) {
                    break;
                }
                logits = seq.forward(next, 0, 1, 0);
            }
        }
        return out.toGeneration(clock, prompt.length(), null);
    }

    @Override
    public String targetId() {
        return model.id();
    }

    @Override
    public String draftId() {
        return null;
    }
}
