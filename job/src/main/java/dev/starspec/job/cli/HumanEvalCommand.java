package dev.starspec.job.cli;

import dev.starspec.engine.decode.DraftLength;
import dev.starspec.job.humaneval.HumanEvalSweep;
import dev.starspec.job.humaneval.Problem;
import dev.starspec.job.humaneval.Problems;
import dev.starspec.job.humaneval.SweepConfig;
import dev.starspec.job.humaneval.ConfigResult;
import dev.starspec.job.report.SweepReport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code starspec humaneval}: pass@k with latency across quantization and speculation, in the study's layout. */
@Command(name = "humaneval", mixinStandardHelpOptions = true,
        description = "Run a HumanEval sweep: generate with each configuration through the Spark job, execute the "
                + "completions in a sandbox, and write a Table-1 style report (report.md, report.html, plots).")
public final class HumanEvalCommand implements Callable<Integer> {

    @Option(names = "--configs", split = ",", defaultValue = "fp32,int8,int4,int8+draft:int8,int4+draft:int8,int8+prompt-lookup",
            description = "<quant>[+draft[:<quant>]|+prompt-lookup], comma-separated (default ${DEFAULT-VALUE})")
    List<String> configs;

    @Option(names = "--target-checkpoint", description = "target checkpoint, converted per configuration as needed (default: the bundled tiny target)")
    String targetCheckpoint;

    @Option(names = "--draft-checkpoint", description = "draft checkpoint (default: the bundled tiny draft)")
    String draftCheckpoint;

    @Option(names = "--target-artifact", description = "QUANT=DIR: use this artifact for the target at QUANT (repeatable)")
    Map<String, String> targetArtifacts = new LinkedHashMap<>();

    @Option(names = "--draft-artifact", description = "QUANT=DIR: use this artifact for the draft at QUANT (repeatable)")
    Map<String, String> draftArtifacts = new LinkedHashMap<>();

    @Option(names = "--samples", defaultValue = "1", description = "generations per problem (default ${DEFAULT-VALUE}, greedy)")
    int samples;

    @Option(names = "--temperature", defaultValue = "0", description = "with --samples N for pass@k (default ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "0.95", description = "nucleus mass when sampling (default ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "default ${DEFAULT-VALUE}")
    int maxNewTokens;

    @Option(names = "--draft-tokens", defaultValue = "5", description = "K for draft configurations (default ${DEFAULT-VALUE})")
    int draftTokens;

    // Off by default, unlike generate: a sweep's draft row measures the draft at K, as the study did. The planner
    // may decide drafting does not pay on this machine and never propose, leaving nothing to report for that row.
    @Option(names = "--draft-adaptive", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "let the planner choose each row's K per step up to --draft-tokens, as generate does; it may "
                    + "turn the draft off where it does not pay (default ${DEFAULT-VALUE}: always K, as the study measured)")
    boolean draftAdaptive;

    @Option(names = "--batch-size", defaultValue = "1",
            description = "rows each task decodes at once (default ${DEFAULT-VALUE}: single-stream latency, as the study "
                    + "measured it); a number or auto for a throughput sweep")
    String batchSize;

    @Option(names = "--problems", description = "HumanEval problems (default: the bundled HumanEval.jsonl.gz)")
    Path problems;

    @Option(names = "--limit", description = "only the first N problems")
    Integer limit;

    @Option(names = "--timeout", defaultValue = "3", description = "seconds per program (default ${DEFAULT-VALUE})")
    double timeout;

    @Option(names = "--output", defaultValue = "out/humaneval", description = "default ${DEFAULT-VALUE}")
    Path output;

    @Option(names = "--threads", description = "ONNX Runtime threads (default: all cores for one task)")
    Integer threads;

    @Option(names = "--partitions", description = "partitions per configuration")
    Integer partitions;

    @Option(names = "--master", description = "Spark master when not run by spark-submit")
    String master;

    @Override
    public Integer call() {
        List<Problem> all = Problems.load(problems != null ? problems : Bundled.humanEval());
        List<Problem> chosen = limit == null ? all : all.subList(0, Math.min(limit, all.size()));
        HumanEvalSweep sweep = new HumanEvalSweep(
                configs.stream().map(SweepConfig::parse).toList(),
                new HumanEvalSweep.Models(targetCheckpoint != null ? targetCheckpoint : Bundled.tinyTarget().toString(),
                        draftCheckpoint != null ? draftCheckpoint : Bundled.tinyDraft().toString(), targetArtifacts, draftArtifacts),
                new HumanEvalSweep.Settings(samples, temperature, topP, maxNewTokens, new DraftLength(draftTokens, draftAdaptive, 0),
                        DecodingMixin.batchSize(batchSize), timeout, threads, partitions, master),
                chosen, output);
        List<ConfigResult> results = sweep.run(System.out::println);
        String report = SweepReport.write(output, results, sweep.machineNote());
        System.out.println();
        System.out.print(report);
        System.out.println("report: " + output.resolve("report.md") + ", " + output.resolve("report.html"));
        return 0;
    }
}
