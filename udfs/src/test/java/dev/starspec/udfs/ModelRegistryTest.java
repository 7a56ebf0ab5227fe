package dev.starspec.udfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.testing.ProjectFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Many tasks asking for the same model at once cause one load. */
class ModelRegistryTest {

    @Test
    void concurrentRequestsLoadOnce() throws Exception {
        GenerationConfig c = GenerationConfig.of(ProjectFiles.tinyDraft().toString(), null).withThreads(3);
        int before = ModelRegistry.loads();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Model>> got = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                got.add(pool.submit((Callable<Model>) () -> ModelRegistry.model(c.target(), c.runtime())));
            }
            Model first = got.get(0).get();
            for (Future<Model> f : got) {
                assertSame(first, f.get());
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(before + 1, ModelRegistry.loads());
    }
}
