package dev.starspec.job.cli;

import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.job.generate.GenerateJob;
import dev.starspec.job.generate.JobSummary;
import dev.starspec.job.generate.PromptSource;
import dev.starspec.udfs.GenerationConfig;
import dev.starspec.udfs.ModelSpec;
import dev.starspec.udfs.RequestDefaults;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code starspec generate}: the Spark job. Prompts in, one Parquet row per prompt out, with the completion,
 * its latency and what speculation did. Runs in local mode from bin/starspec and on a cluster through
 * spark-submit, with the same code. With no options: the bundled sample prompts and tiny models.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate completions for a prompt dataset with Spark and write them to Parquet.")
public final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--input", description = "JSONL, Parquet, HumanEval .jsonl.gz, a source folder or a git repository (default: the "
            + "bundled sample prompts)")
    String input;

    @Option(names = "--input-kind", defaultValue = "auto", description = "auto, jsonl, parquet, humaneval or repo (default ${DEFAULT-VALUE})")
    String inputKind;

    @Option(names = "--fim", description = "repo input: fill-in-the-middle prompts with the code around each body")
    boolean fim;

    @Option(names = "--revision", description = "repo input: read this revision (branch, tag, commit) of the git "
            + "repository at --input (bare or not) instead of the files on disk; a bare repository alone reads HEAD")
    String revision;

    @Option(names = "--output", defaultValue = "out/completions.parquet", description = "Parquet folder (default ${DEFAULT-VALUE})")
    String output;

    @Option(names = "--mode", defaultValue = "overwrite", description = "overwrite, or resume: skip ids already in the output (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--target", description = "artifact/checkpoint folder or URL (default: the bundled tiny target)")
    String target;

    @Option(names = "--target-quant", description = "when --target is a checkpoint: fp32, int8 or int4")
    String targetQuant;

    @Option(names = "--draft", description = "draft artifact/checkpoint folder or URL, 'prompt-lookup', or 'none' (default: the bundled tiny draft)")
    String draft;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "per prompt unless the row says (default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--stop", description = "stop sequence (repeatable; default: the HumanEval set)")
    List<String> stop;

    @Option(names = "--no-stop", description = "no stop sequences")
    boolean noStop;

    @Option(names = "--partitions", description = "input partitions (default: twice the task slots on a cluster, one per "
            + "slot in local mode: each partition's batch drains at its end)")
    Integer partitions;

    @Option(names = "--batch-rows", defaultValue = "2000",
            description = "rows per committed batch; an interrupted job keeps its finished batches (default ${DEFAULT-VALUE})")
    int batchRows;

    @Option(names = "--batch-size", defaultValue = "auto",
            description = "rows each task decodes at once: a number, or auto (chosen from the models' measured pass costs "
                    + "and the cache memory; default ${DEFAULT-VALUE}); 1 decodes one prompt at a time")
    String batchSize;

    @Mixin
    DecodingMixin decoding;

    @Mixin
    DraftLengthMixin draftLength;

    @Mixin
    SamplingMixin sampling;

    @Mixin
    RuntimeMixin runtime;

    @Option(names = "--quiet", description = "no live progress line (it is drawn only when the output is a terminal)")
    boolean quiet;

    @Option(names = "--master", description = "Spark master when not run by spark-submit (default: local mode with all cores for one task)")
    String master;

    @Override
    public Integer call() {
        GenerationConfig config = new GenerationConfig(
                new ModelSpec(target != null ? target : Bundled.tinyTarget().toString(), targetQuant),
                decoding.draft(draft != null ? draft : Bundled.tinyDraft().toString()),
                decoding.options(DecodingMixin.batchSize(batchSize), draftLength, sampling.policy()), runtime.options(),
                runtime.offHeapBytes(), new RequestDefaults(maxNewTokens, sampling.temperature, sampling.topP, sampling.topK,
                        sampling.seed, noStop ? List.of() : stop != null ? stop : GenerationRequest.HUMANEVAL_STOPS));
        String in = input != null ? input : Bundled.samplePrompts().toString();
        PromptSource.Kind kind = revision != null ? PromptSource.Kind.REPO : PromptSource.detect(in, inputKind);
        GenerateJob job = new GenerateJob(config, new PromptSource(in, kind, fim, revision), output,
                mode.equalsIgnoreCase("resume"), partitions, batchRows, master, runtime.threads == null);
        JobSummary summary = job.run(System.out::println, !quiet);
        System.out.println(summary);
        return summary.rows() == 0 ? 1 : 0;
    }
}
