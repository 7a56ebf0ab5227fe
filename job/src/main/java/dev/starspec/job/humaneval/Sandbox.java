package dev.starspec.job.humaneval;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Runs untrusted generated Python: each program in its own {@code python3} process with a wall-clock timeout, CPU,
 * memory, process and file-size limits, and, where the OS allows, in namespaces of its own:
 *
 * <ul>
 *   <li>as root: new mount, network, PID, IPC and UTS namespaces, every mount read-only, a private empty tmpfs on
 *       {@code /tmp}, {@code /var/tmp} and {@code /dev/shm}, then the program runs as {@code nobody}
 *       ({@code setpriv}): it can write nowhere but its private tmpfs, which disappears with it, and every
 *       process it starts dies with its PID namespace
 *   <li>otherwise, if unprivileged user namespaces work: the same inside a user namespace, the program keeping
 *       the invoking user's identity (the read-only mounts are what protect that user's files)
 *   <li>otherwise: limits only, in a fresh temporary folder (reported by {@link #isolation()})
 * </ul>
 *
 * <p>The verdict does not come from the program's exit status or output, which it controls: a small harness reads
 * a random token and the program from stdin, sends the program's stdout to {@code /dev/null}, executes it, and
 * only when that returned normally (so the final {@code check(...)} ran to its end) writes the token to the
 * original stdout. A program that exits early, by {@code sys.exit}, {@code os._exit} or {@code SystemExit} raised
 * anywhere, never reaches that line. It could still forge the token by reading it out of its own interpreter's
 * memory: that takes a program written to attack this harness, not one a model emits by accident.
 */
public final class Sandbox {

    /** How a program ended: {@code passed}, {@code failed: AssertionError}, {@code timed out}, ... */
    public record Outcome(boolean passed, String result) {}

    public enum Isolation { ROOT_NAMESPACES, USER_NAMESPACES, LIMITS_ONLY }

    private static final long MEMORY_BYTES = 2L << 30;
    private static final int MAX_PROCESSES = 64;
    private static final int MAX_FILE_BYTES = 16 << 20;
    private static final int NOBODY = 65534;
    private static final String PASSED = "passed ";

    /**
     * Reads "token\n" + program from stdin. The program's stdin becomes /dev/null and its stdout too, so the only
     * writer of the original stdout (kept on a non-inheritable descriptor) is the last line here.
     */
    private static final String HARNESS = """
            # starspec-sandbox
            import os, sys
            def _harness():
                data = sys.stdin.buffer.read()
                token, _, source = data.partition(b"\\n")
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                report = os.dup(1)
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
                code = compile(source, "program.py", "exec")
                del data, source
                exec(code, {"__name__": "__main__"})
                os.write(report, b"passed " + token + b"\\n")
                os._exit(0)
            _harness()
            """;

    /**
     * Run as root inside the new namespaces, before dropping to the program: read-only mounts except /proc and /sys
     * (kernel interfaces whose permissions protect them), then the private tmpfs folders. Any failure aborts with
     * status 125, so a program never runs with less isolation than {@link #isolation()} says.
     */
    private static final String SETUP = """
            fail() { echo "starspec sandbox: $1" >&2; exit 125; }
            for m in $(awk '{print $2}' /proc/self/mounts | sort -u); do
              case "$m" in /proc|/proc/*|/sys|/sys/*) continue ;; esac
              mount -o remount,bind,ro "$m" 2>/dev/null || fail "cannot make $m read-only"
            done
            for d in /tmp /var/tmp /dev/shm; do
              [ -d "$d" ] || continue
              mount -t tmpfs -o size=64m,mode=1777,nosuid,nodev tmpfs "$d" || fail "cannot mount a private $d"
            done
            cd /tmp || fail "no private /tmp"
            exec "$@"
            """;

    private static final SecureRandom RANDOM = new SecureRandom();

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
        byte[] token = new byte[16];
        RANDOM.nextBytes(token);
        String tokenHex = HexFormat.of().formatHex(token);
        Path dir = null;
        try {
            ProcessBuilder pb = new ProcessBuilder(command(isolation, programCommand()));
            String home = "/tmp"; // the private one, inside the namespaces
            if (isolation == Isolation.LIMITS_ONLY) {
                dir = Files.createTempDirectory("starspec-exec-");
                pb.directory(dir.toFile());
                home = dir.toString();
            }
            pb.environment().clear();
            pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
            pb.environment().put("HOME", home);
            pb.environment().put("TMPDIR", home);
            pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            pb.environment().put("PYTHONHASHSEED", "0");
            Process p = pb.start();
            Tail report = new Tail(p.getInputStream());
            Tail stderr = new Tail(p.getErrorStream());
            report.start();
            stderr.start();
            try (OutputStream in = p.getOutputStream()) {
                in.write((tokenHex + "\n" + program).getBytes(StandardCharsets.UTF_8));
            } catch (IOException gone) {
                // it died before reading its program: judged by how it ended, below
            }
            boolean finished = p.waitFor((long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS);
            if (!finished) {
                killTree(p);
                return new Outcome(false, "timed out");
            }
            // without a PID namespace, what it left running in its process tree goes now
            killTree(p);
            report.join(2000);
            stderr.join(2000);
            int exit = p.exitValue();
            if (exit == 0 && report.text().contains(PASSED + tokenHex)) {
                return new Outcome(true, "passed");
            }
            return new Outcome(false, "failed: " + reason(stderr.text(), exit));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + python + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(false, "failed: interrupted");
        } finally {
            deleteQuietly(dir);
        }
    }

    /** Root's namespaces, then the program as nobody, without groups or inheritable capabilities. */
    private static final List<String> DROP_TO_NOBODY = List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
            "--clear-groups", "--inh-caps=-all", "--");

    private List<String> programCommand() {
        int cpuSeconds = (int) Math.ceil(timeoutSeconds) + 1;
        List<String> cmd = new ArrayList<>();
        if (isolation == Isolation.ROOT_NAMESPACES) {
            cmd.addAll(DROP_TO_NOBODY);
        }
        cmd.addAll(List.of("prlimit", "--cpu=" + cpuSeconds, "--as=" + MEMORY_BYTES, "--nproc=" + MAX_PROCESSES,
                "--fsize=" + MAX_FILE_BYTES, "--core=0", "--", python, "-I", "-c", HARNESS));
        return cmd;
    }

    /** {@code inner} wrapped in the namespaces and the set-up of {@code isolation}. */
    private static List<String> command(Isolation isolation, List<String> inner) {
        List<String> cmd = new ArrayList<>();
        switch (isolation) {
            case ROOT_NAMESPACES -> cmd.add("unshare");
            case USER_NAMESPACES -> cmd.addAll(List.of("unshare", "--user", "--map-root-user"));
            case LIMITS_ONLY -> {
                return inner;
            }
        }
        cmd.addAll(List.of("--mount", "--propagation", "private", "--net", "--pid", "--ipc", "--uts", "--fork",
                "--kill-child", "--", "/bin/sh", "-c", SETUP, "starspec-sandbox"));
        cmd.addAll(inner);
        return cmd;
    }

    /**
     * Why a program failed. An exit status is not a verdict: a Python exception is named only when the interpreter
     * printed its traceback and exited non-zero; a program that ended itself is reported as such.
     */
    static String reason(String stderr, int exit) {
        if (exit == 125 && stderr.contains("starspec sandbox: ")) {
            return "sandbox set-up: " + stderr.substring(stderr.lastIndexOf("starspec sandbox: ") + 18).strip();
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
        int traceback = stderr.lastIndexOf("Traceback (most recent call last):");
        if (exit != 0 && traceback >= 0) {
            List<String> lines = stderr.substring(traceback).lines().map(String::strip).filter(l -> !l.isEmpty())
                    .toList();
            for (int i = lines.size() - 1; i > 0; i--) {
                String l = lines.get(i);
                int colon = l.indexOf(':');
                String head = colon > 0 ? l.substring(0, colon) : l;
                if (head.matches("[A-Za-z_][\\w.]*(Error|Exception|Exit|Interrupt|Warning)")) {
                    return head.substring(head.lastIndexOf('.') + 1);
                }
            }
        }
        return "exited before the tests completed (status " + exit + ")";
    }

    private static void killTree(Process p) throws InterruptedException {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroyForcibly);
        p.waitFor(5, TimeUnit.SECONDS);
    }

    /** What this machine allows does not change while the JVM runs: probe once (it starts processes). */
    private static final Supplier<Isolation> ISOLATION = new Supplier<>() {
        private volatile Isolation known;

        @Override
        public Isolation get() {
            if (known == null) {
                known = probe();
            }
            return known;
        }
    };

    /** The strongest isolation whose whole set-up works here, tried with the program replaced by {@code true}. */
    private static Isolation probe() {
        boolean root = "0".equals(run("id", "-u"));
        List<String> asNobody = new ArrayList<>(DROP_TO_NOBODY);
        asNobody.add("true");
        if (root && ok(command(Isolation.ROOT_NAMESPACES, asNobody))) {
            return Isolation.ROOT_NAMESPACES;
        }
        if (ok(command(Isolation.USER_NAMESPACES, List.of("true")))) {
            return Isolation.USER_NAMESPACES;
        }
        return Isolation.LIMITS_ONLY;
    }

    private static boolean ok(List<String> cmd) {
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

    /**
     * Keeps the last 8 KB of a stream: enough for a traceback's final line or the harness's report, bounded for
     * programs that spew.
     */
    private static final class Tail extends Thread {
        private final InputStream in;
        private final byte[] ring = new byte[8192];
        private long written;

        Tail(InputStream in) {
            this.in = in;
            setDaemon(true);
        }

        @Override
        public void run() {
            byte[] buf = new byte[4096];
            try {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    synchronized (this) {
                        for (int i = 0; i < n; i++) {
                            ring[(int) (written++ % ring.length)] = buf[i];
                        }
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        }

        synchronized String text() {
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
