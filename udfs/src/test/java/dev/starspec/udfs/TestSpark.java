package dev.starspec.udfs;

import org.apache.spark.sql.SparkSession;

/** The one local Spark session of this module's tests: local[2], no UI, loopback only. */
final class TestSpark {

    private TestSpark() {}

    static SparkSession session() {
        return SparkSession.builder().master("local[2]").appName("udf-tests")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }
}
