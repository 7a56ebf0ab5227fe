package dev.starspec.udfs;

import dev.starspec.engine.convert.ArtifactCache;
import dev.starspec.engine.artifact.QuantSpec;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Draft;
import dev.starspec.engine.runtime.Model;
import dev.starspec.engine.runtime.OffHeapMemory;
import dev.starspec.engine.runtime.RuntimeOptions;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor JVM's models: each (location, quantization, threads) is loaded once, however many tasks ask at
 * the same moment, kept for the JVM's life (loading a 15B model takes minutes; tasks come and go) and closed
 * at shutdown. Nothing here is ever serialized.
 *
 * <p>Set {@code STARSPEC_LOAD_LOG} (environment) or {@code starspec.loadLog} (system property) to a folder to
 * get one file per load, named after the host and process ({@code host-pid-n.load}, the model id inside), and one
 * per load begun ({@code .loading}, the location inside): a side channel that lets tests (and operators) count
 * loads per executor and see which executor is loading right now.
 */
public final class ModelRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);
    private static final Map<String, CompletableFuture<Model>> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static final AtomicInteger STARTS = new AtomicInteger();
    private static final String EXECUTOR = hostAndPid();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ModelRegistry::closeAll, "starspec-models-close"));
    }

    private ModelRegistry() {}

    /**
     * The decoder a configuration describes, over this JVM's shared models: the one place where a configuration
     * becomes a decoder (the Spark job, the SQL UDF, {@code complete}, {@code bench} and the HumanEval sweep all
     * come here).
     */
    public static Decoder decoder(GenerationConfig c) {
        OffHeapMemory.setLimit(c.offHeapBytes());
        Model target = model(c.target(), c.runtime());
        Draft draft;
        if (c.draft() instanceof DraftSpec.PromptLookup lookup) {
            draft = new Draft.PromptLookup(lookup.maxNgram());
        } else if (c.draft() instanceof DraftSpec.Model m) {
            draft = new Draft.OfModel(model(m.model(), c.runtime()));
        } else {
            draft = new Draft.None();
        }
        return Decoder.create(target, draft, c.decode(), OffHeapMemory.root());
    }

    static Model model(ModelSpec spec, RuntimeOptions runtime) {
        String key = spec.location() + "|" + spec.quant() + "|" + runtime;
        CompletableFuture<Model> mine = new CompletableFuture<>();
        CompletableFuture<Model> existing = MODELS.putIfAbsent(key, mine);
        if (existing != null) {
            return existing.join(); // another task is loading it, or has: wait for that one load
        }
        try {
            Model m = load(spec, runtime);
            mine.complete(m);
            return m;
        } catch (RuntimeException | Error e) {
            MODELS.remove(key, mine); // a later task may try again (say, after a transient fetch error)
            mine.completeExceptionally(e);
            throw e;
        }
    }

    private static Model load(ModelSpec spec, RuntimeOptions runtime) {
        long start = System.nanoTime();
        record(STARTS.incrementAndGet() + ".loading", spec.location());
        ArtifactCache cache = ArtifactCache.standard();
        Path local = ArtifactFetcher.localFolder(spec.location(), cache.root(), hadoopConfiguration());
        Model m = Model.load(cache.resolve(local, spec.quant() == null ? null : QuantSpec.of(spec.quant()), LOG::info),
                runtime);
        int n = LOADS.incrementAndGet();
        LOG.info("loaded {} from {} in {} s on {} (load {} in this JVM)", m.id(), spec.location(),
                String.format("%.1f", (System.nanoTime() - start) / 1e9), executorId(), n);
        record(n + ".load", m.id());
        return m;
    }

    private static Configuration hadoopConfiguration() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        return env == null ? new Configuration()
                : org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(env.conf());
    }

    /** {@code host-pid-<name>} in the load log, when there is one: loads begun ({@code .loading}) and done. */
    private static void record(String name, String text) {
        String dir = System.getProperty("starspec.loadLog", System.getenv("STARSPEC_LOAD_LOG"));
        if (dir == null || dir.isBlank()) {
            return;
        }
        try {
            Path folder = Path.of(dir);
            Files.createDirectories(folder);
            Files.writeString(folder.resolve(executorId().replace('/', '-') + "-" + name), text + "\n");
        } catch (IOException e) {
            LOG.warn("cannot record {} in the load log {}: {}", name, dir, e.getMessage());
        }
    }

    /** Models loaded by this JVM so far. */
    public static int loads() {
        return LOADS.get();
    }

    /** {@code host/pid}: which executor JVM produced a row. */
    public static String executorId() {
        return EXECUTOR;
    }

    private static String hostAndPid() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown-host";
        }
        return host + "/" + ManagementFactory.getRuntimeMXBean().getPid();
    }

    /** Closes every model of this JVM (the command line does, between benchmarks of large models). */
    public static void closeAll() {
        MODELS.values().forEach(f -> {
            Model m = f.getNow(null);
            if (m != null) {
                m.close();
            }
        });
        MODELS.clear();
    }
}
