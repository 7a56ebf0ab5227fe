package dev.starspec.job.humaneval;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Runs programs through the sandbox, a bounded number at a time. */
public final class Evaluator {

    private final Sandbox sandbox;
    private final int parallelism;

    public Evaluator(Sandbox sandbox, int parallelism) {
        this.sandbox = sandbox;
        this.parallelism = Math.max(1, parallelism);
    }

    public Sandbox sandbox() {
        return sandbox;
    }

    public List<Sandbox.Outcome> run(List<String> programs) {
        ExecutorService pool = Executors.newFixedThreadPool(parallelism);
        try {
            List<Future<Sandbox.Outcome>> futures = new ArrayList<>();
            for (String p : programs) {
                futures.add(pool.submit(() -> sandbox.run(p)));
            }
            List<Sandbox.Outcome> out = new ArrayList<>();
            for (Future<Sandbox.Outcome> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("evaluation interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("evaluation failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }
}
