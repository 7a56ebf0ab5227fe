package dev.starspec.engine.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.runtime.Batch;
import dev.starspec.engine.runtime.KvCache;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.TestArtifacts;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * After every verification step every row's caches hold exactly its accepted text: the target's everything but
 * the newest token, the draft's a prefix of that; each equal to a fresh prefill of the same tokens, whatever its
 * neighbours in the batch did in the same passes.
 */
class RollbackTest {

    @Test
    void everyRowsCachesHoldExactlyItsAcceptedPrefixAfterEveryStep() {
        AtomicInteger steps = new AtomicInteger();
        AtomicInteger rejections = new AtomicInteger();
        try (Model target = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
             Model draft = Model.load(TestArtifacts.tinyDraft(), RuntimeOptions.defaults())) {
            Decoder decoder = Decoder.create(target, new Draft.OfModel(draft),
                    new DecodeOptions(4, DraftLength.fixed(4), SpeculativeSampling.COUPLED, ContextPolicy.ERROR),
                    OffHeapMemory.root());
            List<Submission<Integer>> in = new ArrayList<>();
            List<String> prompts = HumanEvalTexts.prompts().subList(0, 10);
            for (int i = 0; i < prompts.size(); i++) {
                in.add(Submission.now(i, GenerationRequest.greedy(prompts.get(i), 12 + 3 * i)));
            }
            try (Decoding<Integer> d = decoder.decode(in.iterator())) {
                d.observe((row, targetCache, draftCache, endedInRun) -> {
                    steps.incrementAndGet();
                    if (row.n > 0 && row.tested > row.accepted) {
                        rejections.incrementAndGet();
                    }
                    assertEquals(row.length - 1, targetCache.length(row.slot), "target cache: all but the newest token");
                    assertMatchesFreshPrefill(target, targetCache, row.slot, row.text, targetCache.length(row.slot));
                    int drafted = draftCache.length(row.slot);
                    assertTrue(drafted <= row.length - 1, "draft cache holds no rejected proposal");
                    assertMatchesFreshPrefill(draft, draftCache, row.slot, row.text, drafted);
                });
                int done = 0;
                while (d.hasNext()) {
                    Outcome<Integer> o = d.next();
                    assertNull(o.error(), () -> "row " + o.key() + ": " + o.error());
                    assertTrue(o.generation().completionTokens() > 0);
                    done++;
                }
                assertEquals(prompts.size(), done);
            }
        }
        assertTrue(steps.get() > 40, "steps " + steps);
        assertTrue(rejections.get() > 0, "some proposals must have been rejected for rollback to be tested");
    }

    private static void assertMatchesFreshPrefill(Model model, KvCache cache, int slot, int[] text, int length) {
        try (Batch fresh = model.newBatch(OffHeapMemory.root(), new Batch.Limits(1, Math.max(length, 1), 512, 1))) {
            if (length > 0) {
                fresh.prefill(0, text, 0, length, 512);
            }
            for (int layer = 0; layer < cache.layers(); layer++) {
                for (boolean keys : new boolean[] {true, false}) {
                    float[] want = fresh.cache().copy(0, layer, keys, 0, length);
                    float[] got = cache.copy(slot, layer, keys, 0, length);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 1e-5f * Math.max(1f, Math.abs(want[i])),
                                model.id() + " layer " + layer + (keys ? " key " : " value ") + i);
                    }
                }
            }
        }
    }
}
