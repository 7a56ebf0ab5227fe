package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.runtime.KvCache;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.runtime.Sequence;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.TestArtifacts;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * After every verification step both caches hold exactly the accepted text: the target's everything but the
 * newest token, the draft's a prefix of that; each equal to a fresh prefill of the same tokens.
 */
class SpeculativeRollbackTest {

    @Test
    void bothCachesHoldExactlyTheAcceptedPrefixAfterEveryStep() {
        AtomicInteger steps = new AtomicInteger();
        AtomicInteger rejections = new AtomicInteger();
        try (Model target = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
             Model draft = Model.load(TestArtifacts.tinyDraft(), RuntimeOptions.defaults())) {
            SpeculativeDecoder spec = new SpeculativeDecoder(target, new ModelDrafter(draft), DraftLength.fixed(4),
                    OffHeapMemory.root(), ContextPolicy.ERROR, (verifier, session, text, length, proposed, kept, endedInRun) -> {
                        steps.incrementAndGet();
                        if (kept < proposed) {
                            rejections.incrementAndGet();
                        }
                        assertEquals(length - 1, verifier.length(), "target cache: all but the newest token");
                        assertMatchesFreshPrefill(target, verifier.cache(), text, verifier.length());
                        Sequence d = ((ModelDrafter.DraftSession) session).sequence();
                        assertTrue(d.length() <= length - 1, "draft cache holds no rejected proposal");
                        assertMatchesFreshPrefill(draft, d.cache(), text, d.length());
                    });
            for (String prompt : HumanEvalTexts.prompts().subList(0, 6)) {
                spec.generate(GenerationRequest.greedy(prompt, 20));
            }
        }
        assertTrue(steps.get() > 20, "steps " + steps);
        assertTrue(rejections.get() > 0, "some proposals must have been rejected for rollback to be tested");
    }

    private static void assertMatchesFreshPrefill(Model model, KvCache cache, int[] text, int length) {
        try (Sequence fresh = model.newSequence(OffHeapMemory.root(), Math.max(length, 1), 512, 1)) {
            fresh.prefill(text, 0, length);
            for (int layer = 0; layer < cache.layers(); layer++) {
                for (boolean keys : new boolean[] {true, false}) {
                    float[] want = fresh.cache().copy(layer, keys, 0, length);
                    float[] got = cache.copy(layer, keys, 0, length);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 1e-5f * Math.max(1f, Math.abs(want[i])),
                                model.id() + " layer " + layer + (keys ? " key " : " value ") + i);
                    }
                }
            }
        }
    }
}
