package dev.starspec.job.humaneval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.starspec.engine.decode.ContextPolicy;
import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.DecodeOptions;
import dev.starspec.engine.decode.DraftLength;
import dev.starspec.engine.decode.SpeculativeSampling;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.udfs.DraftSpec;
import dev.starspec.udfs.ModelSpec;
import dev.starspec.udfs.RequestDefaults;
import dev.starspec.job.generate.GenerateJob;
import dev.starspec.job.generate.JobSummary;
import dev.starspec.job.generate.PromptSource;
import dev.starspec.job.generate.SparkSessions;
import dev.starspec.udfs.GenerationConfig;
import dev.starspec.udfs.OutputRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * A HumanEval sweep over configurations, as in the study's Table 1: for each configuration, generate through the
 * Spark job (converting the checkpoints it needs, once), score every completion in the sandbox on the executors,
 * and collect each configuration's results (pass@k, latency, acceptance), which {@code report.SweepReport} then
 * writes out.
 */
public final class HumanEvalSweep {

    /** Where models come from: checkpoints (converted as needed) or ready artifacts per quantization. */
    public record Models(String targetCheckpoint, String draftCheckpoint, Map<String, String> targetArtifacts,
                         Map<String, String> draftArtifacts) {

        String target(String quant) {
            return targetArtifacts.getOrDefault(quant, targetCheckpoint);
        }

        String draft(String quant) {
            return draftArtifacts.getOrDefault(quant, draftCheckpoint);
        }
    }

    /**
     * How to generate and score.
     *
     * @param batchSize rows each task decodes at once: 1 (the default) measures single-stream latency as the study
     *     does; more (or {@link DecodeOptions#AUTO_BATCH}) measures throughput
     */
    public record Settings(int samples, double temperature, double topP, int maxNewTokens, DraftLength draftLength, int batchSize,
                           double timeoutSeconds, Integer threads, Integer partitions, String master) {}

    private final List<SweepConfig> configs;
    private final Models models;
    private final Settings settings;
    private final List<Problem> problems;
    private final Path output;

    public HumanEvalSweep(List<SweepConfig> configs, Models models, Settings settings, List<Problem> problems, Path output) {
        if (configs.isEmpty()) {
            throw new IllegalArgumentException("no configurations to sweep");
        }
        if (settings.samples() > 1 && settings.temperature() == 0) {
            throw new IllegalArgumentException("--samples > 1 needs --temperature > 0 (greedy samples are all the same)");
        }
        this.configs = configs;
        this.models = models;
        this.settings = settings;
        this.problems = problems;
        this.output = output;
    }

    public List<ConfigResult> run(Consumer<String> log) {
        SparkSession spark = SparkSessions.getOrCreate(settings.master(), "starspec humaneval");
        Path input = writeInput();
        Map<String, Problem> byTask = new LinkedHashMap<>();
        problems.forEach(p -> byTask.put(p.taskId(), p));
        List<ConfigResult> results = new ArrayList<>();
        for (SweepConfig c : configs) {
            log.accept("humaneval: " + c.name() + " (" + c.method() + ") on " + problems.size() + " problems x "
                    + settings.samples() + " sample(s)");
            Path dir = output.resolve(c.folder());
            String generations = dir.resolve("generations.parquet").toString();
            JobSummary job = new GenerateJob(generationConfig(c), PromptSource.of(input.toString(), PromptSource.Kind.JSONL),
                    generations, false, settings.partitions(), Integer.MAX_VALUE, settings.master(), settings.threads() == null).run(log);
            Dataset<Row> gen = spark.read().parquet(generations);
            Dataset<Row> scored = gen.mapPartitions(new ExecutePrograms(byTask, settings.timeoutSeconds()),
                    Encoders.row(ExecutePrograms.schema(OutputRow.SCHEMA)));
            String resultsPath = dir.resolve("results.parquet").toString();
            scored.write().mode(SaveMode.Overwrite).parquet(resultsPath);
            ConfigResult r = collect(c, job.batchSize(), spark.read().parquet(resultsPath).collectAsList());
            writeGenerationsJson(dir, r);
            log.accept(String.format("humaneval: %s pass@1 %.2f%%", c.name(), 100 * r.passAt(1)));
            results.add(r);
        }
        return results;
    }

    /** Where and how the sweep ran, for its report. */
    public String machineNote() {
        return String.format("Machine: %d cores; %d problems, %d sample(s) each, temperature %s, max %d new tokens.",
                Runtime.getRuntime().availableProcessors(), problems.size(), settings.samples(), settings.temperature(),
                settings.maxNewTokens());
    }


    GenerationConfig generationConfig(SweepConfig c) {
        boolean targetIsArtifact = models.targetArtifacts().containsKey(c.targetQuant());
        DraftSpec draft = new DraftSpec.None();
        if (c.promptLookup()) {
            draft = new DraftSpec.PromptLookup(3);
        } else if (c.draftQuant() != null) {
            boolean draftIsArtifact = models.draftArtifacts().containsKey(c.draftQuant());
            draft = new DraftSpec.Model(new ModelSpec(models.draft(c.draftQuant()), draftIsArtifact ? null : c.draftQuant()));
        }
        int cores = Runtime.getRuntime().availableProcessors();
        RuntimeOptions runtime = RuntimeOptions.defaults().withThreads(settings.threads() != null ? settings.threads() : cores);
        return new GenerationConfig(new ModelSpec(models.target(c.targetQuant()), targetIsArtifact ? null : c.targetQuant()),
                draft, new DecodeOptions(settings.batchSize(), settings.draftLength(),
                        SpeculativeSampling.COUPLED, ContextPolicy.ERROR),
                runtime, 4L << 30, new RequestDefaults(settings.maxNewTokens(), settings.temperature(), settings.topP(), 0, 0,
                        GenerationRequest.HUMANEVAL_STOPS));
    }

    /** The prompts as the harness gives them, repeated per sample ({@code HumanEval/3#7}). */
    private Path writeInput() {
        try {
            Files.createDirectories(output);
            ObjectMapper m = new ObjectMapper();
            List<String> lines = new ArrayList<>();
            for (Problem p : problems) {
                for (int s = 0; s < settings.samples(); s++) {
                    String id = settings.samples() == 1 ? p.taskId() : p.taskId() + "#" + s;
                    lines.add(m.createObjectNode().put("id", id).put("prompt", Programs.prompt(p)).toString());
                }
            }
            return Files.write(output.resolve("prompts.jsonl"), lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ConfigResult collect(SweepConfig c, String batchSize, List<Row> rows) {
        Map<String, Integer> order = new LinkedHashMap<>();
        for (int i = 0; i < problems.size(); i++) {
            order.put(problems.get(i).taskId(), i);
        }
        List<ConfigResult.Sample> samples = new ArrayList<>();
        String model = null;
        String draft = null;
        for (Row r : rows) {
            model = r.getAs("model");
            draft = r.getAs("draft");
            String completion = r.getAs("completion");
            Long proposed = r.getAs("draft_tokens_proposed");
            Long accepted = r.getAs("draft_tokens_accepted");
            Integer tokens = r.getAs("completion_tokens");
            samples.add(new ConfigResult.Sample(r.getAs("task_id"), r.getAs("id"), r.getAs("passed"), r.getAs("result"),
                    r.getAs("ttft_ms"), r.getAs("tpot_ms"), r.getAs("acceptance_rate"),
                    proposed == null ? 0 : proposed, accepted == null ? 0 : accepted, tokens == null ? 0 : tokens,
                    (String) r.getAs("prompt") + (completion == null ? "" : completion)));
        }
        samples.sort((a, b) -> a.taskId().equals(b.taskId()) ? a.id().compareTo(b.id())
                : Integer.compare(order.get(a.taskId()), order.get(b.taskId())));
        return new ConfigResult(c, model, draft, batchSize, samples);
    }

    /** bigcode-evaluation-harness's generations.json: per problem, in order, the list of its generations. */
    static void writeGenerationsJson(Path dir, ConfigResult r) {
        ObjectMapper m = new ObjectMapper();
        ArrayNode all = m.createArrayNode();
        String current = null;
        ArrayNode task = null;
        for (ConfigResult.Sample s : r.samples()) {
            if (!s.taskId().equals(current)) {
                current = s.taskId();
                task = all.addArray();
            }
            task.add(s.generation());
        }
        try {
            Files.writeString(dir.resolve("generations.json"), m.writeValueAsString(all));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
