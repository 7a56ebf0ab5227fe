package dev.starspec.job.humaneval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.testing.ProjectFiles;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluator scores correct code as passing, wrong code as failing, and contains hostile code. */
class SandboxTest {

    static List<Problem> problems;
    static Evaluator evaluator;

    @BeforeAll
    static void load() {
        problems = Problems.load(ProjectFiles.data("humaneval/HumanEval.jsonl.gz"));
        evaluator = new Evaluator(new Sandbox("python3", 3.0), Runtime.getRuntime().availableProcessors());
        System.out.println("sandbox isolation: " + evaluator.sandbox().isolation());
    }

    @Test
    void canonicalSolutionsAllPass() {
        List<Sandbox.Outcome> out = evaluator.run(problems.stream()
                .map(p -> Programs.program(p, p.prompt() + p.canonicalSolution())).toList());
        assertEquals(164, out.size());
        List<String> failures = new java.util.ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            if (!out.get(i).passed()) {
                failures.add(problems.get(i).taskId() + ": " + out.get(i).result());
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void emptyCompletionsAllFail() {
        List<Sandbox.Outcome> out = evaluator.run(problems.stream().map(p -> Programs.forCompletion(p, "")).toList());
        assertEquals(0, out.stream().filter(Sandbox.Outcome::passed).count());
        assertTrue(out.stream().allMatch(o -> o.result().startsWith("failed: ")), out.get(0).result());
    }

    /** HumanEval/0's prompt with a hostile body. */
    static String hostile(String body) {
        Problem p = problems.get(0);
        return Programs.program(p, Programs.prompt(p) + "\n" + body.indent(4));
    }

    @Test
    void infiniteLoopTimesOut() {
        long start = System.nanoTime();
        Sandbox.Outcome o = evaluator.sandbox().run(hostile("while True:\n    pass"));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals("timed out", o.result());
        assertTrue(seconds < 8, "took " + seconds + " s");
    }

    @Test
    void forkBombIsContainedAndLeavesNothingRunning() throws Exception {
        long start = System.nanoTime();
        Sandbox.Outcome o = evaluator.sandbox().run(hostile("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertFalse(o.passed());
        assertTrue(o.result().equals("timed out") || o.result().startsWith("failed:"), o.result());
        assertTrue(seconds < 10, "took " + seconds + " s");
        Thread.sleep(500);
        long survivors = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().orElse("").contains("starspec-exec-")).count();
        assertEquals(0, survivors, "processes of the fork bomb still running");
    }

    @Test
    void hugeAllocationFailsWithMemoryError() {
        assertEquals("failed: MemoryError", evaluator.sandbox().run(hostile("x = bytearray(50 * 2**30)")).result());
    }

    @Test
    void shellCommandsCannotHarmTheMachine(@TempDir Path tmp) throws IOException {
        Path canary = privateCanary(tmp);
        Sandbox.Outcome o = evaluator.sandbox().run(hostile("import os\nos.system('rm -rf " + canary.getParent() + "')"));
        assertEquals("failed: AssertionError", o.result(), "the function returned nothing useful");
        assumeRootIsolation();
        assertTrue(Files.exists(canary), "os.system deleted a file outside its folder");
    }

    @Test
    void deletingFilesOutsideTheFolderFails(@TempDir Path tmp) throws IOException {
        Path canary = privateCanary(tmp);
        Sandbox.Outcome o = evaluator.sandbox().run(hostile("import shutil\nshutil.rmtree('" + canary.getParent() + "')"));
        assumeRootIsolation();
        assertEquals("failed: PermissionError", o.result());
        assertTrue(Files.exists(canary));
    }

    @Test
    void noNetworkEvenToLoopback() throws Exception {
        Assumptions.assumeTrue(evaluator.sandbox().isolation() != Sandbox.Isolation.LIMITS_ONLY,
                "this machine allows no network namespace");
        try (ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            server.setSoTimeout(100);
            AtomicBoolean connected = new AtomicBoolean();
            Thread acceptor = new Thread(() -> {
                long end = System.currentTimeMillis() + 4000;
                while (System.currentTimeMillis() < end && !connected.get()) {
                    try (var s = server.accept()) {
                        connected.set(true);
                    } catch (SocketTimeoutException again) {
                        // keep listening
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.start();
            Sandbox.Outcome o = evaluator.sandbox().run(hostile(
                    "import socket\nsocket.create_connection(('127.0.0.1', " + server.getLocalPort() + "), timeout=2)"));
            acceptor.join();
            assertFalse(connected.get(), "the program reached a socket on this machine");
            assertTrue(o.result().startsWith("failed: ") && o.result().contains("Error"), o.result());
        }
    }

    @Test
    void passAtKMatchesHandComputedValues() {
        assertEquals(0.3, PassAtK.estimate(10, 3, 1), 1e-12);          // c / n
        assertEquals(1 - (7.0 * 6) / (10 * 9), PassAtK.estimate(10, 3, 2), 1e-12);
        assertEquals(1.0, PassAtK.estimate(10, 9, 2), 1e-12);          // fewer than k failures
        assertEquals(0.0, PassAtK.estimate(5, 0, 3), 1e-12);
        assertEquals(1 - 1.0 / 120, PassAtK.estimate(10, 3, 7), 1e-12); // C(7,7)/C(10,7) = 1/120
        assertEquals(0.5, PassAtK.mean(List.of(new PassAtK.Tally(4, 4), new PassAtK.Tally(4, 0)), 1), 1e-12);
    }

    /** A file only root can delete: inside a folder of mode 700. */
    private static Path privateCanary(Path tmp) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("private"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        return Files.writeString(dir.resolve("canary.txt"), "still here");
    }

    private static void assumeRootIsolation() {
        Assumptions.assumeTrue(evaluator.sandbox().isolation() == Sandbox.Isolation.ROOT_NAMESPACES,
                "only a root-run sandbox drops to another user; here files of the same user are not protected");
    }
}
