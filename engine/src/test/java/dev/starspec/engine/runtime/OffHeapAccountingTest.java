package dev.starspec.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.decode.AutoregressiveDecoder;
import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.Generation;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.testing.TestArtifacts;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;

/** Every byte a generation takes off-heap comes back, and the limit is an error for one generation only. */
class OffHeapAccountingTest {

    @Test
    void manyGenerationsLeakNothing() {
        try (BufferAllocator memory = OffHeapMemory.newRoot(64L << 20);
             Model model = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults())) {
            AutoregressiveDecoder decoder = new AutoregressiveDecoder(model, memory, ContextPolicy.ERROR);
            long peak = 0;
            for (int i = 0; i < 40; i++) {
                Generation g = decoder.generate(GenerationRequest.greedy("def f" + i + "(x):\n    return", 4 + i % 5));
                assertTrue(g.completionTokens() > 0);
                assertEquals(0, memory.getAllocatedMemory(), "after generation " + i);
                peak = Math.max(peak, memory.getPeakMemoryAllocation());
            }
            assertTrue(peak > 0, "generations did allocate off-heap");
        }
    }

    @Test
    void exceedingTheLimitFailsThatGenerationClearlyAndTheNextOneStillRuns() {
        try (Model model = Model.load(TestArtifacts.tinyTarget(), RuntimeOptions.defaults())) {
            // The logits row alone is 49152 floats = 192 KiB ; a
            // 512 KiB budget fits a short generation but not the ~0.9 MiB cache of a 440-position one.
            try (BufferAllocator memory = OffHeapMemory.newRoot(512L << 10)) {
                AutoregressiveDecoder decoder = new AutoregressiveDecoder(model, memory, ContextPolicy.ERROR);
                OffHeapLimitException e = assertThrows(OffHeapLimitException.class,
                        () -> decoder.generate(GenerationRequest.greedy("x = 1\n".repeat(60), 200)));
                assertTrue(e.getMessage().contains("--kv-cache-memory"), e.getMessage());
                assertTrue(e.getMessage().contains("MiB"), e.getMessage());
                assertEquals(0, memory.getAllocatedMemory());
                Generation ok = decoder.generate(GenerationRequest.greedy("x", 2));
                assertTrue(ok.completionTokens() >= 1);
                assertEquals(0, memory.getAllocatedMemory());
            }
        }
    }
}
