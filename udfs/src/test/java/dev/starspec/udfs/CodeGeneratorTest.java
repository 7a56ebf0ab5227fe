package dev.starspec.udfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.starspec.engine.testing.HumanEvalTexts;
import dev.starspec.engine.testing.ProjectFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline stage: fit and transform in a Pipeline, a save and load round trip, the SQL UDF's completions. */
class CodeGeneratorTest {

    static SparkSession spark;
    static Dataset<Row> prompts;

    @BeforeAll
    static void setUp() {
        spark = TestSpark.session();
        List<Row> rows = new ArrayList<>();
        List<String> texts = HumanEvalTexts.prompts();
        for (int i = 0; i < 8; i++) {
            rows.add(RowFactory.create("p" + i, i, texts.get(i)));
        }
        rows.add(RowFactory.create("empty", 8, ""));
        StructType schema = new StructType().add("key", DataTypes.StringType).add("n", DataTypes.IntegerType)
                .add("code", DataTypes.StringType);
        prompts = spark.createDataFrame(rows, schema).repartition(2);
    }

    static CodeGenerator generator() {
        return new CodeGenerator().setTarget(ProjectFiles.tinyTarget().toString())
                .setDraft(ProjectFiles.tinyDraft().toString()).setDraftTokens(3).setBatchSize(4).setMaxNewTokens(12)
                .setInputCol("code").setOutputCol("gen").setIdCol("key");
    }

    private static Map<String, Row> byKey(Dataset<Row> out) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : out.collectAsList()) {
            m.put(r.getString(0), r);
        }
        return m;
    }

    @Test
    void aPipelineKeepsTheInputColumnsAndAddsTheOutputStruct(@TempDir Path tmp) throws Exception {
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {generator()});
        PipelineModel model = pipeline.fit(prompts);
        Dataset<Row> out = model.transform(prompts);
        assertEquals(List.of("key", "n", "code", "gen"), List.of(out.schema().fieldNames()));
        assertEquals(OutputRow.SCHEMA, out.schema().apply("gen").dataType());
        Map<String, Row> rows = byKey(out);
        assertEquals(9, rows.size(), "every row once");
        for (var e : rows.entrySet()) {
            OutputRow g = OutputRow.fromRow(e.getValue().getStruct(3));
            assertEquals(e.getKey(), g.id(), "the struct's id comes from idCol");
            assertEquals(e.getValue().getString(2), g.prompt());
            if (e.getKey().equals("empty")) {
                assertEquals("error", g.finishReason());
                assertNotNull(g.error());
            } else {
                assertTrue(g.completionTokens() > 0 && g.error() == null, e.getKey() + ": " + g);
                assertNotNull(g.draftTokensProposed(), "the draft ran");
            }
        }

        // saved with its parameters and model locations, loaded back: the same stage, the same completions
        String path = tmp.resolve("pipeline").toString();
        model.write().overwrite().save(path);
        PipelineModel loaded = PipelineModel.load(path);
        CodeGenerator stage = (CodeGenerator) loaded.stages()[0];
        assertEquals(generator().config(), stage.config());
        assertEquals(((CodeGenerator) model.stages()[0]).uid(), stage.uid());
        Map<String, Row> again = byKey(loaded.transform(prompts));
        for (String key : rows.keySet()) {
            assertEquals(OutputRow.fromRow(rows.get(key).getStruct(3)).completion(),
                    OutputRow.fromRow(again.get(key).getStruct(3)).completion(), key);
        }
    }

    /** Greedy output does not depend on batching or drafting, so the batched stage gives the UDF's completions. */
    @Test
    void theSameCompletionsAsTheSqlUdf() {
        CodeGenerator gen = generator();
        GenerationConfig config = gen.config();
        GenerateCodeUdf.register(spark, config);
        prompts.createOrReplaceTempView("stage_prompts");
        Map<String, String> udf = new HashMap<>();
        for (Row r : spark.sql("SELECT key, generate_code(code).completion FROM stage_prompts").collectAsList()) {
            udf.put(r.getString(0), r.getString(1));
        }
        Map<String, Row> stage = byKey(gen.transform(prompts));
        assertEquals(udf.keySet(), stage.keySet());
        for (String key : udf.keySet()) {
            assertEquals(udf.get(key), OutputRow.fromRow(stage.get(key).getStruct(3)).completion(), key);
        }
    }

    @Test
    void badColumnsAreRefusedUpFront() {
        assertThrows(IllegalArgumentException.class, () -> generator().setInputCol("n").transformSchema(prompts.schema()));
        assertThrows(IllegalArgumentException.class, () -> generator().setOutputCol("code").transformSchema(prompts.schema()));
        assertThrows(IllegalArgumentException.class, () -> new CodeGenerator().config());
    }
}
