package dev.starspec.udfs;

import dev.starspec.engine.decode.Decoder;
import dev.starspec.engine.decode.Generation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.classic.UserDefinedFunctionUtils;
import org.apache.spark.sql.expressions.SparkUserDefinedFunction;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;

/**
 * {@code generate_code(prompt)} and {@code generate_code(prompt, max_new_tokens, temperature)} for Spark SQL,
 * returning the output row's struct (its {@code id} is null). For the DataFrame API, {@link #one} and
 * {@link #three} are the same functions as {@link UserDefinedFunction}s.
 *
 * <p>Spark's public UDF registry holds one function per name, so both arities are registered under one name
 * through the session's function registry, with a builder that picks by argument count.
 */
public final class GenerateCodeUdf {

    public static final String NAME = "generate_code";

    private GenerateCodeUdf() {}

    public static UserDefinedFunction one(GenerationConfig config) {
        return functions.udf((UDF1<String, Row>) prompt -> call(config, prompt, null, null), OutputRow.SCHEMA)
                .asNondeterministic().withName(NAME);
    }

    /**
     * Takes any numbers: SQL's {@code 0.8} is a decimal and {@code 3} may be a long, and Java UDFs get no
     * implicit casts.
     */
    public static UserDefinedFunction three(GenerationConfig config) {
        return functions.udf((UDF3<String, Object, Object, Row>) (prompt, maxNew, temperature) ->
                call(config, prompt, maxNew == null ? null : ((Number) maxNew).intValue(),
                        temperature == null ? null : ((Number) temperature).doubleValue()), OutputRow.SCHEMA)
                .asNondeterministic().withName(NAME);
    }

    public static void register(SparkSession spark, GenerationConfig config) {
        SparkUserDefinedFunction f1 = (SparkUserDefinedFunction) one(config);
        SparkUserDefinedFunction f3 = (SparkUserDefinedFunction) three(config);
        FunctionRegistry registry = ((org.apache.spark.sql.classic.SparkSession) spark).sessionState().functionRegistry();
        scala.Function1<scala.collection.immutable.Seq<Expression>, Expression> builder = children -> {
            switch (children.length()) {
                case 1:
                    return UserDefinedFunctionUtils.toScalaUDF(f1, children);
                case 3:
                    return UserDefinedFunctionUtils.toScalaUDF(f3, children);
                default:
                    throw new IllegalArgumentException(NAME + " takes (prompt) or (prompt, max_new_tokens, temperature), not "
                            + children.length() + " arguments");
            }
        };
        registry.createOrReplaceTempFunction(NAME, builder, "scala_udf");
    }

    /**
     * Runs on executors, one prompt per call: Spark evaluates a scalar UDF row by row, so this path decodes at batch 1
     * (use the generate job, a mapPartitions over {@link GeneratePartition}, to batch). The decoder's models come
     * from the JVM's registry.
     */
    static Row call(GenerationConfig config, String prompt, Integer maxNewTokens, Double temperature) {
        Decoder decoder = ModelRegistry.decoder(config.withBatchSize(1));
        long start = System.nanoTime();
        try {
            Generation g = decoder.generate(config.request(null, prompt, maxNewTokens, temperature, null));
            return OutputRow.of(null, prompt, g, decoder.targetId(), decoder.draftId(), 0).toRow();
        } catch (RuntimeException e) {
            return OutputRow.failed(null, prompt, e, decoder.targetId(), decoder.draftId(), 0,
                    (System.nanoTime() - start) / 1e6).toRow();
        }
    }
}
