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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
        assertEquals(List.of(), sandboxProcesses(), "processes of the fork bomb still running");
    }

    @Test
    void everyWayOfExitingEarlyIsAFailure() {
        String early = "failed: exited before the tests completed (status ";
        Map<String, String> bodies = new LinkedHashMap<>();
        bodies.put("import sys\nsys.exit(0)", early + "0)");
        bodies.put("raise SystemExit", early + "0)");
        bodies.put("raise SystemExit(3)", early + "3)");
        bodies.put("import sys\nsys.exit('done')", early + "1)");
        bodies.put("import os\nos._exit(0)", early + "0)");
        bodies.put("exit()", early + "0)");
        bodies.put("quit(0)", early + "0)");
        bodies.put("import os, threading, time\nthreading.Thread(target=lambda: os._exit(0)).start()\ntime.sleep(2)",
                early + "0)");
        bodies.put("import atexit, os\natexit.register(lambda: os._exit(0))\nraise SystemExit(1)", early + "0)");
        bodies.put("import os, sys\nprint('passed')\nos.write(1, b'passed\\n')\nsys.stdout.flush()\nos._exit(0)",
                early + "0)");
        List<String> programs = new ArrayList<>(bodies.keySet().stream().map(SandboxTest::hostile).toList());
        List<String> expected = new ArrayList<>(bodies.values());
        // at import time: before the function is even called
        Problem p = problems.get(0);
        programs.add(Programs.program(p, "import sys\nsys.exit(0)\n" + p.prompt() + p.canonicalSolution()));
        expected.add(early + "0)");
        programs.add(Programs.program(p, p.prompt() + p.canonicalSolution() + "\nraise SystemExit(0)\n"));
        expected.add(early + "0)");
        List<String> results = evaluator.run(programs).stream().map(Sandbox.Outcome::result).toList();
        assertEquals(expected, results);
    }

    @Test
    void privateTemporaryFoldersLeaveNothingBehind() throws IOException {
        assumeNamespaces();
        String name = "starspec-sandbox-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        List<Path> places = Stream.of("/tmp", "/var/tmp", "/dev/shm").map(Path::of).filter(Files::isDirectory)
                .map(d -> d.resolve(name)).toList();
        StringBuilder body = new StringBuilder();
        for (Path f : places) {
            body.append("open('").append(f).append("', 'w').write('left behind')\n");
            body.append("assert open('").append(f).append("').read() == 'left behind'\n");
        }
        body.append("import os\nassert os.listdir('/tmp') == ['").append(name).append("'], os.listdir('/tmp')\n");
        Sandbox.Outcome o = evaluator.sandbox().run(hostile(body.toString()));
        assertEquals("failed: AssertionError", o.result(), "the writes worked and the function returned nothing");
        for (Path f : places) {
            assertFalse(Files.exists(f), f + " survived the run");
        }
    }

    @Test
    void theRestOfTheFileSystemIsReadOnly() throws IOException {
        assumeNamespaces();
        Path open = Files.createTempDirectory(buildFolder(), "world-writable-");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path file = open.resolve("written.txt");
        Sandbox.Outcome o = evaluator.sandbox().run(hostile("open('" + file + "', 'w').write('x')"));
        assertTrue(o.result().equals("failed: OSError") || o.result().equals("failed: PermissionError"), o.result());
        assertFalse(Files.exists(file));
        Files.delete(open);
    }

    @Test
    void nothingItStartedRunsAfterwards() throws Exception {
        assumeNamespaces();
        String marker = "37." + (System.nanoTime() % 1000);
        Sandbox.Outcome o = evaluator.sandbox().run(hostile("""
                import os, subprocess
                subprocess.Popen(['sleep', '%s'], start_new_session=True)
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        os.execvp('sleep', ['sleep', '%s'])
                    os._exit(0)
                """.formatted(marker, marker)));
        assertEquals("failed: AssertionError", o.result());
        long alive = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().orElse("").contains("sleep " + marker)).count();
        assertEquals(0, alive, "a process the program started outlived evaluate");
        assertEquals(List.of(), sandboxProcesses());
    }

    @Test
    void hugeAllocationFailsWithMemoryError() {
        assertEquals("failed: MemoryError", evaluator.sandbox().run(hostile("x = bytearray(50 * 2**30)")).result());
    }

    @Test
    void shellCommandsCannotHarmTheMachine() throws IOException {
        Path canary = privateCanary();
        Sandbox.Outcome o = evaluator.sandbox().run(hostile("import os\nos.system('rm -rf " + canary.getParent() + "')"));
        assertEquals("failed: AssertionError", o.result(), "the function returned nothing useful");
        assumeRootIsolation();
        assertTrue(Files.exists(canary), "os.system deleted a file outside its folder");
    }

    @Test
    void deletingFilesOutsideTheFolderFails() throws IOException {
        Path canary = privateCanary();
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

    /**
     * Processes of the sandbox: its harness (marked in its command line) and, as root, anything run as nobody.
     * The kernel takes a moment to tear down a dead namespace full of processes (a fork bomb's), so look for up to
     * five seconds: a process that escaped would still be there.
     */
    private static List<String> sandboxProcesses() throws InterruptedException {
        boolean asNobody = evaluator.sandbox().isolation() == Sandbox.Isolation.ROOT_NAMESPACES;
        List<String> found = List.of();
        for (int attempt = 0; attempt < 50; attempt++) {
            found = ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                    .filter(h -> h.info().commandLine().orElse("").contains("starspec-sandbox")
                            || asNobody && h.info().user().orElse("").equals("nobody"))
                    .map(h -> h.pid() + " " + h.info().commandLine().orElse("?")).toList();
            if (found.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        return found;
    }

    /**
     * A folder for files the sandboxed program must not reach, outside /tmp, /var/tmp and /dev/shm (the sandbox
     * gives the program private ones, so files there would be out of its sight rather than protected): the build
     * folder, or under the home folder when the build itself lives in /tmp (a clone in a temporary folder).
     */
    private static Path buildFolder() throws IOException {
        Path target = Path.of("target", "sandbox-test").toAbsolutePath();
        boolean hidden = Stream.of("/tmp", "/var/tmp", "/dev/shm").anyMatch(p -> target.startsWith(p));
        return Files.createDirectories(hidden ? OUTSIDE : target);
    }

    private static final Path OUTSIDE = Path.of(System.getProperty("user.home"), ".cache",
            "starspec-sandbox-test-" + ProcessHandle.current().pid());

    @AfterAll
    static void removeOutside() throws IOException {
        dev.starspec.engine.artifact.ArtifactWriter.deleteTree(OUTSIDE);
    }

    /** A file only root can delete: inside a folder of mode 700. */
    private static Path privateCanary() throws IOException {
        Path dir = Files.createTempDirectory(buildFolder(), "private-", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        return Files.writeString(dir.resolve("canary.txt"), "still here");
    }

    private static void assumeNamespaces() {
        Assumptions.assumeTrue(evaluator.sandbox().isolation() != Sandbox.Isolation.LIMITS_ONLY,
                "this machine allows no namespaces: limits only");
    }

    private static void assumeRootIsolation() {
        Assumptions.assumeTrue(evaluator.sandbox().isolation() == Sandbox.Isolation.ROOT_NAMESPACES,
                "only a root-run sandbox drops to another user; here files of the same user are not protected");
    }
}
