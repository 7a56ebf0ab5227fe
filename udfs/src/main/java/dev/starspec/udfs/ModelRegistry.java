package dev.starspec.udfs;

import dev.starspec.engine.artifact.ArtifactCache;
import dev.starspec.engine.artifact.QuantSpec;
import dev.starspec.engine.decode.AutoregressiveDecoder;
import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.ModelDrafter;
import dev.starspec.engine.decode.PromptLookupDrafter;
import dev.starspec.engine.decode.SpeculativeDecoder;
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
 * get one file per load, named after the host and process: a side channel that lets tests (and operators)
 * count loads per executor.
 */
public final class ModelRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);
    private static final Map<String, CompletableFuture<Model>> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static final String EXECUTOR = hostAndPid();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ModelRegistry::closeAll, "starspec-models-close"));
    }

    private ModelRegistry() {}

    /** The decoder a configuration describes, over this JVM's shared models. */
    public static Decoder decoder(GenerationConfig c) {
        OffHeapMemory.setLimit(c.offHeapBytes());
        Model target = model(c.target(), c.targetQuant(), c);
        if (c.draft() == null) {
            return new AutoregressiveDecoder(target, OffHeapMemory.root(), c.contextPolicy());
        }
        if (c.draft().equals(PromptLookupDrafter.ID)) {
            return new SpeculativeDecoder(target, new PromptLookupDrafter(c.lookupNgram()), c.draftLength(),
                    OffHeapMemory.root(), c.contextPolicy());
        }
        Model draft = model(c.draft(), c.draftQuant(), c);
        return new SpeculativeDecoder(target, new ModelDrafter(draft), c.draftLength(), OffHeapMemory.root(), c.contextPolicy());
    }

    static Model model(String location, String quant, GenerationConfig c) {
        String key = location + "|" + quant + "|" + c.threads() + "|" + c.spin();
        CompletableFuture<Model> mine = new CompletableFuture<>();
        CompletableFuture<Model> existing = MODELS.putIfAbsent(key, mine);
        if (existing != null) {
            return existing.join(); // another task is loading it, or has: wait for that one load
        }
        try {
            Model m = load(location, quant, c);
            mine.complete(m);
            return m;
        } catch (RuntimeException | Error e) {
            MODELS.remove(key, mine); // a later task may try again (say, after a transient fetch error)
            mine.completeExceptionally(e);
            throw e;
        }
    }

    private static Model load(String location, String quant, GenerationConfig c) {
        long start = System.nanoTime();
        ArtifactCache cache = ArtifactCache.standard();
        Path local = ArtifactFetcher.localFolder(location, cache.root(), hadoopConfiguration());
        Model m = Model.load(cache.resolve(local, quant == null ? null : QuantSpec.of(quant), LOG::info),
                new RuntimeOptions(c.threads(), c.spin(), c.prefillChunk()));
        int n = LOADS.incrementAndGet();
        LOG.info("loaded {} from {} in {} s on {} (load {} in this JVM)", m.id(), location,
                String.format("%.1f", (System.nanoTime() - start) / 1e9), executorId(), n);
        recordLoad(m.id());
        return m;
    }

    private static Configuration hadoopConfiguration() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        return env == null ? new Configuration()
                : org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(env.conf());
    }

    private static void recordLoad(String modelId) {
        String dir = System.getProperty("starspec.loadLog", System.getenv("STARSPEC_LOAD_LOG"));
        if (dir == null || dir.isBlank()) {
            return;
        }
        try {
            Path folder = Path.of(dir);
            Files.createDirectories(folder);
            Files.writeString(folder.resolve(executorId().replace('/', '-') + "-" + LOADS.get() + ".load"), modelId + "\n");
        } catch (IOException e) {
            LOG.warn("cannot record the load of {} in {}: {}", modelId, dir, e.getMessage());
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

    static void closeAll() {
        MODELS.values().forEach(f -> {
            Model m = f.getNow(null);
            if (m != null) {
                m.close();
            }
        });
        MODELS.clear();
    }
}
