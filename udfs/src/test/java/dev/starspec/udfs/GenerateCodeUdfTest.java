package dev.starspec.udfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** generate_code from Spark SQL (both arities) and the DataFrame API. */
class GenerateCodeUdfTest {

    static SparkSession spark;
    static GenerationConfig config;

    @BeforeAll
    static void setUp() {
        spark = TestSpark.session();
        config = GenerationConfig.of(ProjectFiles.tinyTarget().toString(), null).withMaxNewTokens(8).withThreads(1);
        GenerateCodeUdf.register(spark, config);
        List<Row> rows = new ArrayList<>();
        List<String> prompts = HumanEvalTexts.prompts();
        for (int i = 0; i < 6; i++) {
            rows.add(RowFactory.create("p" + i, prompts.get(i)));
        }
        rows.add(RowFactory.create("empty", ""));
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType);
        spark.createDataFrame(rows, schema).createOrReplaceTempView("prompts");
    }

    @Test
    void sqlWithOneArgument() {
        List<Row> out = spark.sql("SELECT id, generate_code(prompt).completion AS completion, "
                + "generate_code(prompt).finish_reason AS finish FROM prompts ORDER BY id").collectAsList();
        assertEquals(7, out.size());
        for (Row r : out) {
            if (r.getString(0).equals("empty")) {
                assertNull(r.get(1));
                assertEquals("error", r.getString(2));
            } else {
                assertNotNull(r.get(1), r.getString(0));
                assertTrue(List.of("stop", "length", "eos").contains(r.getString(2)));
            }
        }
    }

    @Test
    void sqlWithThreeArgumentsHonoursMaxNewTokens() {
        List<Row> out = spark.sql("SELECT id, generate_code(prompt, 3, 0.0) AS g FROM prompts WHERE id <> 'empty'")
                .collectAsList();
        assertEquals(6, out.size());
        for (Row r : out) {
            Row g = r.getStruct(1);
            assertTrue(g.<Integer>getAs("completion_tokens") <= 3, r.getString(0));
            assertNull(g.getAs("error"));
            assertEquals("tiny-starcoder-target:fp32", g.getAs("model"));
        }
    }

    @Test
    void dataFrameApi() {
        Dataset<Row> df = spark.table("prompts").where("id = 'p0'")
                .withColumn("g", GenerateCodeUdf.one(config).apply(functions.col("prompt")));
        Row g = df.select("g.*").first();
        assertEquals(OutputRow.SCHEMA.fieldNames().length, g.size());
        assertTrue(g.<Double>getAs("ttft_ms") > 0);
    }

    @Test
    void wrongArityIsAClearError() {
        Exception e = assertThrows(Exception.class, () -> spark.sql("SELECT generate_code(prompt, 3) FROM prompts").collect());
        assertTrue(String.valueOf(e.getMessage()).contains("generate_code"), e.getMessage());
    }
}
