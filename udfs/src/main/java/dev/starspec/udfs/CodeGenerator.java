package dev.starspec.udfs;

import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.SpeculativeSampling;
import dev.starspec.engine.runtime.RuntimeOptions;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Code generation as a Spark ML pipeline stage: appends to every row a column ({@link #outputCol}, default
 * {@code generation}) holding the output row's struct ({@link OutputRow#SCHEMA}) for the prompt in
 * {@link #inputCol}. Rows decode in batches through {@link GeneratePartition}, as in the generate job (not row by
 * row as the SQL UDF does), so rows leave each partition in the order they finish. A prompt that cannot be
 * completed gets a struct with its {@code error}, as everywhere. Saving keeps the parameters and model locations,
 * never the models.
 *
 * <pre>
 * CodeGenerator gen = new CodeGenerator().setTarget("/models/starcoder-int8").setDraft("/models/tiny-int8")
 *         .setInputCol("prompt").setOutputCol("generation").setMaxNewTokens(128);
 * Dataset&lt;Row&gt; out = new Pipeline().setStages(new PipelineStage[] {gen}).fit(prompts).transform(prompts);
 * </pre>
 */
public final class CodeGenerator extends Transformer implements DefaultParamsWritable {

    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> idCol;
    private final Param<String> target;
    private final Param<String> targetQuant;
    private final Param<String> draft;
    private final Param<String> draftQuant;
    private final IntParam draftTokens;
    private final BooleanParam adaptiveDraft;
    private final IntParam batchSize;
    private final IntParam maxNewTokens;
    private final DoubleParam temperature;
    private final DoubleParam topP;
    private final IntParam topK;
    private final LongParam seed;
    private final StringArrayParam stop;
    private final Param<String> speculativeSampling;
    private final LongParam kvCacheMemory;

    public CodeGenerator() {
        this(Identifiable$.MODULE$.randomUID("starspec_codegen"));
    }

    public CodeGenerator(String uid) {
        this.uid = uid;
        inputCol = new Param<>(uid, "inputCol", "the column of prompts (strings)");
        outputCol = new Param<>(uid, "outputCol", "the column to add, with the output row's struct");
        idCol = new Param<>(uid, "idCol", "a column of row ids: the struct's id, and each row's sampling seed "
                + "(empty: no id; the seed then comes from the prompt)");
        target = new Param<>(uid, "target", "the target model: an artifact or checkpoint folder, or a URL");
        targetQuant = new Param<>(uid, "targetQuant", "fp32, int8 or int4 for a checkpoint target (empty: fp32)");
        draft = new Param<>(uid, "draft", "the draft: a model location, prompt-lookup, or none");
        draftQuant = new Param<>(uid, "draftQuant", "fp32, int8 or int4 for a checkpoint draft (empty: fp32)");
        draftTokens = new IntParam(uid, "draftTokens", "the draft length K (its maximum when adaptive)");
        adaptiveDraft = new BooleanParam(uid, "adaptiveDraft", "choose each row's draft length per step");
        batchSize = new IntParam(uid, "batchSize", "rows decoded together per task (0: automatic)");
        maxNewTokens = new IntParam(uid, "maxNewTokens", "tokens to generate at most per prompt");
        temperature = new DoubleParam(uid, "temperature", "sampling temperature (0: greedy)");
        topP = new DoubleParam(uid, "topP", "nucleus sampling mass (1: off)");
        topK = new IntParam(uid, "topK", "sample among the k likeliest tokens (0: off)");
        seed = new LongParam(uid, "seed", "the sampling seed, mixed with each row's id");
        stop = new StringArrayParam(this, "stop", "stop sequences: the completion ends before the first");
        speculativeSampling = new Param<>(uid, "speculativeSampling", "coupled or rejection");
        kvCacheMemory = new LongParam(uid, "kvCacheMemory", "off-heap bytes for each executor's KV caches");
        setDefault(inputCol, "prompt");
        setDefault(outputCol, "generation");
        setDefault(idCol, "");
        setDefault(targetQuant, "");
        setDefault(draft, "none");
        setDefault(draftQuant, "");
        setDefault(draftTokens, 5);
        setDefault(adaptiveDraft, true);
        setDefault(batchSize, DecodeOptions.AUTO_BATCH);
        setDefault(maxNewTokens, 128);
        setDefault(temperature, 0.0);
        setDefault(topP, 1.0);
        setDefault(topK, 0);
        setDefault(seed, 0L);
        setDefault(stop, GenerationRequest.HUMANEVAL_STOPS.toArray(new String[0]));
        setDefault(speculativeSampling, "coupled");
        setDefault(kvCacheMemory, 4L << 30);
    }

    public static MLReader<CodeGenerator> read() {
        return new DefaultParamsReadable<CodeGenerator>() { }.read();
    }

    public static CodeGenerator load(String path) {
        return read().load(path);
    }

    @Override
    public String uid() {
        return uid;
    }

    // Params: Spark finds them by reflection, as public methods without arguments that return a Param.
    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> idCol() { return idCol; }
    public Param<String> target() { return target; }
    public Param<String> targetQuant() { return targetQuant; }
    public Param<String> draft() { return draft; }
    public Param<String> draftQuant() { return draftQuant; }
    public IntParam draftTokens() { return draftTokens; }
    public BooleanParam adaptiveDraft() { return adaptiveDraft; }
    public IntParam batchSize() { return batchSize; }
    public IntParam maxNewTokens() { return maxNewTokens; }
    public DoubleParam temperature() { return temperature; }
    public DoubleParam topP() { return topP; }
    public IntParam topK() { return topK; }
    public LongParam seed() { return seed; }
    public StringArrayParam stop() { return stop; }
    public Param<String> speculativeSampling() { return speculativeSampling; }
    public LongParam kvCacheMemory() { return kvCacheMemory; }

    public CodeGenerator setInputCol(String v) { set(inputCol, v); return this; }
    public CodeGenerator setOutputCol(String v) { set(outputCol, v); return this; }
    public CodeGenerator setIdCol(String v) { set(idCol, v); return this; }
    public CodeGenerator setTarget(String v) { set(target, v); return this; }
    public CodeGenerator setTargetQuant(String v) { set(targetQuant, v); return this; }
    public CodeGenerator setDraft(String v) { set(draft, v); return this; }
    public CodeGenerator setDraftQuant(String v) { set(draftQuant, v); return this; }
    public CodeGenerator setDraftTokens(int v) { set(draftTokens, v); return this; }
    public CodeGenerator setAdaptiveDraft(boolean v) { set(adaptiveDraft, v); return this; }
    public CodeGenerator setBatchSize(int v) { set(batchSize, v); return this; }
    public CodeGenerator setMaxNewTokens(int v) { set(maxNewTokens, v); return this; }
    public CodeGenerator setTemperature(double v) { set(temperature, v); return this; }
    public CodeGenerator setTopP(double v) { set(topP, v); return this; }
    public CodeGenerator setTopK(int v) { set(topK, v); return this; }
    public CodeGenerator setSeed(long v) { set(seed, v); return this; }
    public CodeGenerator setStop(String[] v) { set(stop, v); return this; }
    public CodeGenerator setSpeculativeSampling(String v) { set(speculativeSampling, v); return this; }
    public CodeGenerator setKvCacheMemory(long v) { set(kvCacheMemory, v); return this; }

    /** The configuration the executors decode with, from the parameters. */
    public GenerationConfig config() {
        if (!isDefined(target) || $(target).isBlank()) {
            throw new IllegalArgumentException("CodeGenerator needs a target model (setTarget)");
        }
        int k = (Integer) $(draftTokens);
        DraftLength length = (Boolean) $(adaptiveDraft) ? DraftLength.adaptive(k) : DraftLength.fixed(k);
        DecodeOptions decode = new DecodeOptions((Integer) $(batchSize), length,
                SpeculativeSampling.valueOf($(speculativeSampling).toUpperCase(java.util.Locale.ROOT)), ContextPolicy.ERROR);
        RequestDefaults defaults = new RequestDefaults((Integer) $(maxNewTokens), (Double) $(temperature),
                (Double) $(topP), (Integer) $(topK), (Long) $(seed), Arrays.asList($(stop)));
        return new GenerationConfig(new ModelSpec($(target), orNull($(targetQuant))),
                DraftSpec.parse($(draft), orNull($(draftQuant)), 3), decode, RuntimeOptions.defaults(),
                (Long) $(kvCacheMemory), defaults);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType in = dataset.schema();
        StructType out = transformSchema(in);
        String ids = $(idCol);
        GeneratePartition.Rows rows = new Columns(in.fieldIndex($(inputCol)), ids.isEmpty() ? -1 : in.fieldIndex(ids));
        GeneratePartition.Progress progress = GeneratePartition.Progress.register(dataset.sparkSession().sparkContext());
        return dataset.toDF().mapPartitions(new GeneratePartition(config().withTaskThreads(dataset.sparkSession()), progress,
                rows), Encoders.row(out));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        List<String> names = Arrays.asList(schema.fieldNames());
        String input = $(inputCol);
        if (!names.contains(input) || !schema.apply(input).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("CodeGenerator: input column " + input + " must be a string column; "
                    + "the input has " + schema.simpleString());
        }
        if (!$(idCol).isEmpty() && !names.contains($(idCol))) {
            throw new IllegalArgumentException("CodeGenerator: no id column " + $(idCol) + " in " + schema.simpleString());
        }
        if (names.contains($(outputCol))) {
            throw new IllegalArgumentException("CodeGenerator: output column " + $(outputCol) + " already exists");
        }
        return schema.add(new StructField($(outputCol), OutputRow.SCHEMA, false, org.apache.spark.sql.types.Metadata.empty()));
    }

    @Override
    public CodeGenerator copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    private static String orNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** Prompts from one column (and ids from another), the struct appended to the row. */
    private record Columns(int prompt, int id) implements GeneratePartition.Rows {
        @Override
        public InputRow read(Row source) {
            String text = source.isNullAt(prompt) ? null : source.getString(prompt);
            String rowId = id < 0 || source.isNullAt(id) ? null : source.get(id).toString();
            return new InputRow(rowId, text, null, null, null);
        }

        @Override
        public Row write(Row source, OutputRow result) {
            Object[] values = new Object[source.size() + 1];
            for (int i = 0; i < source.size(); i++) {
                values[i] = source.get(i);
            }
            values[source.size()] = result.toRow();
            return RowFactory.create(values);
        }
    }
}
