package dev.starspec.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Decoding;
import dev.starspec.engine.decode.Draft;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.Generation;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Outcome;
import dev.starspec.engine.decode.SpeculativeSampling;
import dev.starspec.engine.decode.Submission;
import dev.starspec.engine.testing.TestArtifacts;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;

/**
 * Every byte a decoder takes off-heap comes back; under a tight limit rows wait for memory instead of failing,
 * and the limit is an error only for a row that alone cannot fit.
 */
class OffHeapAccountingTest {

    static Decoder decoder(Model model, BufferAllocator memory, int batch, Draft draft) {
        return Decoder.create(model, draft, new DecodeOptions(batch, DraftLength.fixed(3), SpeculativeSampling.COUPLED,
                ContextPolicy.ERROR), memory);
    }

    @Test
    void manyGenerationsLeakNothing() {
        try (BufferAllocator memory = OffHeapMemory.newRoot(64L << 20);
             Model model = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
             Model draft = Model.load(TestArtifacts.tinyDraft(), RuntimeOptions.defaults())) {
            Decoder plain = decoder(model, memory, 1, new Draft.None());
            long peak = 0;
            for (int i = 0; i < 40; i++) {
                Generation g = plain.generate(GenerationRequest.greedy("def f" + i + "(x):\n    return", 4 + i % 5));
                assertTrue(g.completionTokens() > 0);
                assertEquals(0, memory.getAllocatedMemory(), "after generation " + i);
                peak = Math.max(peak, memory.getPeakMemoryAllocation());
            }
            assertTrue(peak > 0, "generations did allocate off-heap");
            List<Outcome<Integer>> all = run(decoder(model, memory, 8, new Draft.OfModel(draft)), requests(30, 5, 20));
            assertEquals(30, all.size());
            assertEquals(0, memory.getAllocatedMemory(), "after a batched, speculative run");
        }
    }

    /**
     * A limit that holds only a few rows: a batch of 8 admits what fits, the rest wait for rows to finish, and
     * every row completes with the same tokens as without the limit.
     */
    @Test
    void underATightLimitRowsWaitInsteadOfFailing() {
        try (Model model = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults());
             BufferAllocator roomy = OffHeapMemory.newRoot(256L << 20)) {
            List<GenerationRequest> requests = requests(16, 300, 40);
            Map<Integer, Generation> free = new HashMap<>();
            for (Outcome<Integer> o : run(decoder(model, roomy, 8, new Draft.None()), requests)) {
                free.put(o.key(), o.generation());
            }
            int longest = 0;
            for (GenerationRequest r : requests) {
                longest = Math.max(longest, model.tokenizer().encode(r.prompt()).length + r.maxNewTokens());
            }
            long limit = 4L << 20;
            ModelConfig c = model.config();
            int prefill = model.options().prefillChunk();
            assertTrue(new Batch.Limits(8, longest, Math.max(prefill, 8), 8).bytes(c) > limit, "8 rows do not fit");
            assertTrue(new Batch.Limits(2, longest + 64, Math.max(prefill, 2), 2).bytes(c) < limit, "2 rows do");
            try (BufferAllocator tight = OffHeapMemory.newRoot(limit)) {
                List<Outcome<Integer>> outcomes = run(decoder(model, tight, 8, new Draft.None()), requests);
                assertEquals(16, outcomes.size());
                for (Outcome<Integer> o : outcomes) {
                    assertNull(o.error(), "row " + o.key() + " failed: " + o.error());
                    assertArrayEquals(free.get(o.key()).tokens(), o.generation().tokens(), "row " + o.key());
                }
                assertTrue(tight.getPeakMemoryAllocation() <= limit);
                assertEquals(0, tight.getAllocatedMemory());
            }
        }
    }

    @Test
    void aRowThatAloneCannotFitFailsClearlyAndTheOthersStillRun() {
        try (Model model = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults())) {
            List<GenerationRequest> requests = List.of(GenerationRequest.greedy("x", 2),
                    GenerationRequest.greedy("x = 1\n".repeat(60), 200), GenerationRequest.greedy("y", 3));
            // 1 MiB holds a short row (its cache and two logits rows) but not the 440 positions of the long one.
            long limit = 1L << 20;
            ModelConfig c = model.config();
            int prefill = model.options().prefillChunk();
            assertTrue(new Batch.Limits(1, 64, prefill, 1).bytes(c) < limit);
            assertTrue(new Batch.Limits(1, 440, prefill, 1).bytes(c) > limit);
            try (BufferAllocator memory = OffHeapMemory.newRoot(limit)) {
                List<Outcome<Integer>> outcomes = run(decoder(model, memory, 1, new Draft.None()), requests);
                assertEquals(3, outcomes.size());
                for (Outcome<Integer> o : outcomes) {
                    if (o.key() == 1) {
                        OffHeapLimitException e = assertInstanceOf(OffHeapLimitException.class, o.error());
                        assertTrue(e.getMessage().contains("--kv-cache-memory"), e.getMessage());
                        assertTrue(e.getMessage().contains("MiB"), e.getMessage());
                    } else {
                        assertNull(o.error());
                        assertTrue(o.generation().completionTokens() >= 1);
                    }
                }
                assertEquals(0, memory.getAllocatedMemory());
                Decoder alone = decoder(model, memory, 1, new Draft.None());
                assertThrows(OffHeapLimitException.class, () -> alone.generate(requests.get(1)));
                assertEquals(0, memory.getAllocatedMemory());
            }
        }
    }

    static List<GenerationRequest> requests(int n, int promptTokens, int maxNew) {
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new GenerationRequest("v" + i + " = [" + "1, ".repeat(promptTokens / 3) + "]\n", maxNew + i % 7,
                    List.of(), null));
        }
        return out;
    }

    static List<Outcome<Integer>> run(Decoder decoder, List<GenerationRequest> requests) {
        List<Submission<Integer>> in = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            in.add(Submission.now(i, requests.get(i)));
        }
        List<Outcome<Integer>> out = new ArrayList<>();
        try (Decoding<Integer> d = decoder.decode(in.iterator())) {
            d.forEachRemaining(out::add);
        }
        return out;
    }
}
