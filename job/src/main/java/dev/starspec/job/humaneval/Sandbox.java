package dev.starspec.job.humaneval;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs untrusted generated Python: each program in its own {@code python3} process, in a fresh temporary folder,
 * with a wall-clock timeout, CPU, memory, process and file-size limits, and, where the OS allows, no network and
 * no way out of its process tree:
 *
 * <ul>
 *   <li>as root: new network and PID namespaces ({@code unshare}), then the program runs as {@code nobody}
 *       ({@code setpriv}), so it cannot touch other users' files and its processes die with the namespace
 *   <li>otherwise, if unprivileged user namespaces work: the same namespaces inside a user namespace
 *   <li>otherwise: limits only (reported by {@link #isolation()})
 * </ul>
 *
 * On timeout the whole process tree is killed; the temporary folder is always removed.
 */
public final class Sandbox {

    /** How a program ended: {@code passed}, {@code failed: AssertionError}, {@code timed out}, ... */
    public record Outcome(boolean passed, String result) {}

    public enum Isolation { ROOT_NAMESPACES, USER_NAMESPACES, LIMITS_ONLY }

    private static final long MEMORY_BYTES = 2L << 30;
    private static final int MAX_PROCESSES = 64;
    private static final int MAX_FILE_BYTES = 16 << 20;
    private static final int NOBODY = 65534;

    private final String python;
    private final double timeoutSeconds;
    private final Isolation isolation;

    public Sandbox(String python, double timeoutSeconds) {
        this.python = python;
        this.timeoutSeconds = timeoutSeconds;
        this.isolation = ISOLATION.get();
    }

    public Isolation isolation() {
        return isolation;
    }

    public Outcome run(String program) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("starspec-exec-");
            Path file = dir.resolve("program.py");
            Files.writeString(file, program, StandardCharsets.UTF_8);
            if (isolation == Isolation.ROOT_NAMESPACES) {
                // nobody must be able to enter the folder and read the program; nothing else is opened to it
                dir.toFile().setExecutable(true, false);
                dir.toFile().setReadable(true, false);
                dir.toFile().setWritable(true, false);
                file.toFile().setReadable(true, false);
            }
            ProcessBuilder pb = new ProcessBuilder(command(file)).directory(dir.toFile());
            pb.environment().clear();
            pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
            pb.environment().put("HOME", dir.toString());
            pb.environment().put("TMPDIR", dir.toString());
            pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            pb.environment().put("PYTHONHASHSEED", "0");
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            Process p = pb.start();
            StderrTail stderr = new StderrTail(p.getErrorStream());
            stderr.start();
            boolean finished = p.waitFor((long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS);
            if (!finished) {
                killTree(p);
                return new Outcome(false, "timed out");
            }
            stderr.join(2000);
            int exit = p.exitValue();
            if (exit == 0) {
                return new Outcome(true, "passed");
            }
            return new Outcome(false, "failed: " + reason(stderr.tail(), exit));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run python3: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(false, "failed: interrupted");
        } finally {
            deleteQuietly(dir);
        }
    }

    private List<String> command(Path file) {
        List<String> cmd = new ArrayList<>();
        switch (isolation) {
            case ROOT_NAMESPACES -> cmd.addAll(List.of("unshare", "--net", "--pid", "--fork", "--kill-child",
                    "setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "--inh-caps=-all", "--"));
            case USER_NAMESPACES -> cmd.addAll(List.of("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork",
                    "--kill-child", "--"));
            case LIMITS_ONLY -> { }
        }
        int cpuSeconds = (int) Math.ceil(timeoutSeconds) + 1;
        cmd.addAll(List.of("prlimit", "--cpu=" + cpuSeconds, "--as=" + MEMORY_BYTES, "--nproc=" + MAX_PROCESSES,
                "--fsize=" + MAX_FILE_BYTES, "--core=0", "--", python, "-I", file.toString()));
        return cmd;
    }

    /** The exception type from a Python traceback's last line, or a signal/exit code. */
    static String reason(String stderr, int exit) {
        List<String> lines = stderr.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        for (int i = lines.size() - 1; i >= 0; i--) {
            String l = lines.get(i);
            int colon = l.indexOf(':');
            String head = colon > 0 ? l.substring(0, colon) : l;
            if (head.matches("[A-Za-z_][\\w.]*(Error|Exception|Exit|Interrupt)") || head.matches("[A-Za-z_][\\w.]*Error")) {
                return head.substring(head.lastIndexOf('.') + 1);
            }
        }
        if (exit > 128) {
            int signal = exit - 128;
            return switch (signal) {
                case 9 -> "killed (SIGKILL, a resource limit)";
                case 24 -> "CPU time limit";
                case 25 -> "file size limit";
                case 11 -> "segmentation fault";
                default -> "killed by signal " + signal;
            };
        }
        return "exit code " + exit;
    }

    private static void killTree(Process p) throws InterruptedException {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroyForcibly);
        p.waitFor(5, TimeUnit.SECONDS);
    }

    /** What this machine allows does not change while the JVM runs: probe once (it starts processes). */
    private static final java.util.function.Supplier<Isolation> ISOLATION = new java.util.function.Supplier<>() {
        private volatile Isolation known;

        @Override
        public Isolation get() {
            if (known == null) {
                known = probe();
            }
            return known;
        }
    };

    private static Isolation probe() {
        boolean root = "0".equals(run("id", "-u"));
        if (root && ok("unshare", "--net", "--pid", "--fork", "--kill-child", "setpriv", "--reuid=" + NOBODY,
                "--regid=" + NOBODY, "--clear-groups", "--", "true")) {
            return Isolation.ROOT_NAMESPACES;
        }
        if (ok("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--", "true")) {
            return Isolation.USER_NAMESPACES;
        }
        return Isolation.LIMITS_ONLY;
    }

    private static boolean ok(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** Keeps the last 8 KB of stderr: enough for a traceback's final line, bounded for programs that spew. */
    private static final class StderrTail extends Thread {
        private final InputStream in;
        private final byte[] ring = new byte[8192];
        private long written;

        StderrTail(InputStream in) {
            this.in = in;
            setDaemon(true);
        }

        @Override
        public void run() {
            byte[] buf = new byte[4096];
            try {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    for (int i = 0; i < n; i++) {
                        ring[(int) (written++ % ring.length)] = buf[i];
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        }

        synchronized String tail() {
            int len = (int) Math.min(written, ring.length);
            byte[] out = new byte[len];
            for (int i = 0; i < len; i++) {
                out[i] = ring[(int) ((written - len + i) % ring.length)];
            }
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a program may have removed its own folder
        }
    }
}
