package dev.starspec.job.generate;

import org.apache.spark.sql.SparkSession;

/**
 * The job's Spark session: the one spark-submit (or a test) set up, else a local one. Local mode gives every core
 * to one task at a time ({@code spark.task.cpus} = cores), as conf/spark-defaults.conf does on a cluster: one
 * model instance busy per node, using all of its cores.
 */
public final class SparkSessions {

    private SparkSessions() {}

    public static SparkSession getOrCreate(String master, String appName) {
        var existing = SparkSession.getActiveSession();
        if (existing.isDefined()) {
            return existing.get();
        }
        SparkSession.Builder b = SparkSession.builder().appName(appName);
        boolean submitted = System.getProperty("spark.master") != null;
        if (!submitted) {
            int cores = Runtime.getRuntime().availableProcessors();
            b.master(master != null ? master : "local[" + cores + "]")
                    .config("spark.task.cpus", master != null ? "1" : Integer.toString(cores))
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", Integer.toString(Math.max(2, cores)))
                    // as conf/spark-defaults.conf: plans over the output row's fields print whole, without a warning
                    .config("spark.sql.debug.maxToStringFields", "100")
                    // running tasks report their accumulators with each heartbeat: the progress line's pace
                    .config("spark.executor.heartbeatInterval", "2s");
        }
        return b.getOrCreate();
    }
}
