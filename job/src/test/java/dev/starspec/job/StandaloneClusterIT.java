package dev.starspec.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real standalone cluster on 127.0.0.1 (a Master and two one-core Workers, started from the Maven jars in
 * {@code target/spark-home/jars}), the job submitted through {@code org.apache.spark.deploy.SparkSubmit} with the
 * shaded application jar, as users run it.
 */
class StandaloneClusterIT {

    @TempDir
    static Path tmp;
    static JavaProcess master;
    static List<JavaProcess> workers = new ArrayList<>();
    static String masterUrl;
    static String sparkClasspath;
    static Map<String, String> sparkEnv;

    @BeforeAll
    static void startCluster() throws Exception {
        Path sparkHome = Path.of(System.getProperty("starspec.sparkHome"));
        sparkClasspath = sparkHome.resolve("jars").toString() + "/*";
        sparkEnv = Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.13",
                "SPARK_LOCAL_IP", "127.0.0.1", "STARSPEC_CACHE", tmp.resolve("cache").toString());
        int port = freePort();
        masterUrl = "spark://127.0.0.1:" + port;
        master = JavaProcess.start(sparkClasspath, "org.apache.spark.deploy.master.Master",
                List.of("--host", "127.0.0.1", "--port", Integer.toString(port), "--webui-port", Integer.toString(freePort())),
                sparkEnv, tmp);
        assertTrue(master.awaitLine(l -> l.contains("I have been elected leader"), 60_000), master.output());
        for (int i = 0; i < 2; i++) {
            Path work = Files.createDirectories(tmp.resolve("worker-" + i));
            JavaProcess w = JavaProcess.start(sparkClasspath, "org.apache.spark.deploy.worker.Worker",
                    List.of("--host", "127.0.0.1", "--cores", "1", "--memory", "2g", "--webui-port", Integer.toString(freePort()),
                            "--work-dir", work.toString(), masterUrl), sparkEnv, tmp);
            workers.add(w);
            assertTrue(w.awaitLine(l -> l.contains("Successfully registered with master"), 60_000), w.output());
        }
    }

    @AfterAll
    static void stopCluster() throws InterruptedException {
        for (JavaProcess w : workers) {
            w.close();
        }
        if (master != null) {
            master.close();
        }
    }

    static JavaProcess submit(Path input, Path output, Path loadLog, int maxNewTokens) throws IOException {
        List<String> args = new ArrayList<>(List.of("--master", masterUrl, "--deploy-mode", "client",
                "--class", "dev.starspec.job.Starspec",
                "--conf", "spark.executor.cores=1", "--conf", "spark.task.cpus=1", "--conf", "spark.executor.memory=1g",
                "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.task.maxFailures=4",
                "--conf", "spark.executorEnv.STARSPEC_LOAD_LOG=" + loadLog,
                "--conf", "spark.executorEnv.STARSPEC_CACHE=" + tmp.resolve("cache"),
                "--conf", "spark.executorEnv.OPT_OUT_TRACKING=true",
                "--conf", "spark.executor.extraJavaOptions=-Dai.djl.offline=true",
                System.getProperty("starspec.appJar"),
                "generate", "--input", input.toString(), "--output", output.toString(), "--threads", "1",
                "--partitions", "8", "--max-new-tokens", Integer.toString(maxNewTokens), "--no-stop",
                "--target", ProjectFiles.tinyTarget().toString(), "--draft", ProjectFiles.tinyDraft().toString()));
        return JavaProcess.start(sparkClasspath, "org.apache.spark.deploy.SparkSubmit", args, sparkEnv, tmp);
    }

    static Path prompts(String name, int n) throws IOException {
        ObjectMapper m = new ObjectMapper();
        List<String> prompts = HumanEvalTexts.prompts();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lines.add(m.createObjectNode().put("id", name + "-" + i).put("prompt", prompts.get(i % prompts.size())).toString());
        }
        return Files.write(tmp.resolve(name + ".jsonl"), lines);
    }

    /** Model ids loaded per executor pid, from the registry's load log. */
    static Map<String, List<String>> loadsByExecutor(Path loadLog) throws IOException {
        Map<String, List<String>> out = new HashMap<>();
        if (!Files.isDirectory(loadLog)) {
            return out;
        }
        try (Stream<Path> s = Files.list(loadLog)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".load")).toList()) {
                String name = p.getFileName().toString(); // host-pid-n.load
                String pid = name.substring(0, name.lastIndexOf('-'));
                out.computeIfAbsent(pid, k -> new ArrayList<>()).add(Files.readString(p).strip());
            }
        }
        return out;
    }

    @Test
    void eachExecutorLoadsEachModelOnce() throws Exception {
        Path input = prompts("once", 24);
        Path output = tmp.resolve("once.parquet");
        Path loadLog = tmp.resolve("loads-once");
        try (JavaProcess driver = submit(input, output, loadLog, 16)) {
            assertEquals(0, driver.waitFor(300_000), driver.output());
        }
        List<Row> rows = SparkTestSession.get().read().parquet(output.toString()).collectAsList();
        assertEquals(24, rows.size());
        assertEquals(24, rows.stream().map(r -> r.getString(0)).distinct().count());
        long executors = rows.stream().map(r -> r.<String>getAs("executor")).distinct().count();
        Map<String, List<String>> loads = loadsByExecutor(loadLog);
        assertEquals(executors, loads.size(), "executors that produced rows vs executors that loaded: " + loads);
        for (var e : loads.entrySet()) {
            assertEquals(List.of("tiny-starcoder-draft:fp32", "tiny-starcoder-target:fp32"),
                    e.getValue().stream().sorted().toList(), "executor " + e.getKey() + " loaded each model exactly once");
        }
        assertEquals(2, executors, "both workers' executors did work");
    }

    @Test
    void killingAnExecutorMidJobLosesAndDuplicatesNothing() throws Exception {
        Path input = prompts("fault", 48);
        Path output = tmp.resolve("fault.parquet");
        Path loadLog = tmp.resolve("loads-fault");
        try (JavaProcess driver = submit(input, output, loadLog, 64)) {
            long deadline = System.currentTimeMillis() + 120_000;
            Map<String, List<String>> loads = loadsByExecutor(loadLog);
            while (loads.values().stream().mapToInt(List::size).sum() < 4 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
                loads = loadsByExecutor(loadLog);
            }
            assertTrue(loads.size() >= 1, "no executor started:\n" + driver.output());
            String victim = loads.keySet().iterator().next();
            long pid = Long.parseLong(victim.substring(victim.lastIndexOf('-') + 1));
            Thread.sleep(1500); // let it get into its tasks
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            assertEquals(0, driver.waitFor(400_000), driver.output());
        }
        List<Row> rows = SparkTestSession.get().read().parquet(output.toString()).collectAsList();
        assertEquals(48, rows.size(), "rows");
        assertEquals(48, rows.stream().map(r -> r.getString(0)).distinct().count(), "every id exactly once");
        assertTrue(rows.stream().allMatch(r -> dev.starspec.udfs.OutputRow.fromRow(r).error() == null), "no error rows");
        Map<String, List<String>> loads = loadsByExecutor(loadLog);
        assertTrue(loads.size() >= 2, "a replacement executor loaded the models: " + loads.keySet());
        System.out.println("executors: " + rows.stream().collect(Collectors.groupingBy(r -> r.<String>getAs("executor"),
                Collectors.counting())) + ", loads " + loads);
    }

    /**
     * An executor killed while it loads (here: converting the checkpoint into the node's cache, under its lock):
     * the lock dies with it, its half-written conversion is discarded, a replacement converts again, and its
     * tasks are retried elsewhere.
     */
    @Test
    void killingAnExecutorWhileItLoadsTheModelLosesNothing() throws Exception {
        Path input = prompts("loading", 24);
        Path output = tmp.resolve("loading.parquet");
        Path loadLog = tmp.resolve("loads-loading");
        Path cache = tmp.resolve("cache");
        dev.starspec.engine.artifact.ArtifactWriter.deleteTree(cache.resolve("artifacts")); // so that the first load converts, which takes a while
        try (JavaProcess driver = submit(input, output, loadLog, 16)) {
            long deadline = System.currentTimeMillis() + 120_000;
            Path loading = null;
            while (loading == null && System.currentTimeMillis() < deadline) {
                if (Files.isDirectory(loadLog)) {
                    try (Stream<Path> s = Files.list(loadLog)) {
                        loading = s.filter(f -> f.toString().endsWith(".loading")).findFirst().orElse(null);
                    }
                }
                Thread.sleep(5);
            }
            assertTrue(loading != null, "no executor began loading:\n" + driver.output());
            String name = loading.getFileName().toString(); // host-pid-n.loading
            String hostPid = name.substring(0, name.lastIndexOf('-'));
            long pid = Long.parseLong(hostPid.substring(hostPid.lastIndexOf('-') + 1));
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            boolean loadedBeforeKill = loadsByExecutor(loadLog).containsKey(hostPid);
            assertEquals(0, driver.waitFor(400_000), driver.output());
            System.out.println("killed executor " + hostPid + " while loading (it had finished a load: "
                    + loadedBeforeKill + ")");
        }
        List<Row> rows = SparkTestSession.get().read().parquet(output.toString()).collectAsList();
        assertEquals(24, rows.size(), "rows");
        assertEquals(24, rows.stream().map(r -> r.getString(0)).distinct().count(), "every id exactly once");
        assertTrue(rows.stream().allMatch(r -> dev.starspec.udfs.OutputRow.fromRow(r).error() == null), "no error rows");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
