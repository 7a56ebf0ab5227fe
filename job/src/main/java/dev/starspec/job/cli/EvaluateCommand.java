package dev.starspec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.job.humaneval.Evaluator;
import dev.starspec.job.humaneval.PassAtK;
import dev.starspec.job.humaneval.Problem;
import dev.starspec.job.humaneval.Problems;
import dev.starspec.job.humaneval.Programs;
import dev.starspec.job.humaneval.Sandbox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code starspec evaluate}: scores HumanEval completions that came from anywhere with the sandbox the sweep uses.
 * Accepts bigcode-evaluation-harness's {@code generations.json} (per problem, in order, a list of full programs:
 * prompt + completion) and human-eval's JSONL ({@code task_id}, {@code completion} of the original prompt).
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Execute HumanEval completions in the sandbox and print pass@k.")
public final class EvaluateCommand implements Callable<Integer> {

    @Option(names = "--generations", required = true, description = "generations.json (harness) or JSONL (task_id, completion)")
    Path generations;

    @Option(names = "--problems", description = "HumanEval problems (default: the bundled HumanEval.jsonl.gz)")
    Path problems;

    @Option(names = "--timeout", defaultValue = "3", description = "seconds per program (default ${DEFAULT-VALUE})")
    double timeout;

    @Option(names = "--parallel", description = "programs at once (default: the number of cores)")
    Integer parallel;

    @Option(names = "--output", description = "write one JSON line per program: task_id, passed, result")
    Path output;

    record Item(Problem problem, String program) {}

    @Override
    public Integer call() throws IOException {
        List<Problem> all = Problems.load(problems != null ? problems : Bundled.humanEval());
        List<Item> items = read(all);
        Evaluator evaluator = new Evaluator(new Sandbox("python3", timeout),
                parallel != null ? parallel : Runtime.getRuntime().availableProcessors());
        System.err.println("evaluate: " + items.size() + " programs, sandbox " + evaluator.sandbox().isolation());
        List<Sandbox.Outcome> outcomes = evaluator.run(items.stream().map(Item::program).toList());
        Map<String, PassAtK.Tally> tallies = new LinkedHashMap<>();
        Map<String, Integer> reasons = new TreeMap<>();
        ObjectMapper m = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String task = items.get(i).problem().taskId();
            Sandbox.Outcome o = outcomes.get(i);
            PassAtK.Tally t = tallies.getOrDefault(task, new PassAtK.Tally(0, 0));
            tallies.put(task, new PassAtK.Tally(t.samples() + 1, t.passed() + (o.passed() ? 1 : 0)));
            reasons.merge(o.result(), 1, Integer::sum);
            lines.add(m.createObjectNode().put("task_id", task).put("passed", o.passed()).put("result", o.result()).toString());
        }
        if (output != null) {
            Files.write(output, lines);
        }
        int n = tallies.values().stream().mapToInt(PassAtK.Tally::samples).min().orElse(0);
        for (int k : new int[] {1, 10, 100}) {
            if (n >= k) {
                System.out.printf("pass@%d: %.2f%% (%d problems, %d samples each)%n", k,
                        100 * PassAtK.mean(tallies.values(), k), tallies.size(), n);
            }
        }
        reasons.forEach((r, c) -> System.out.printf("  %5d  %s%n", c, r));
        return 0;
    }

    private List<Item> read(List<Problem> all) throws IOException {
        String text = Files.readString(generations).strip();
        ObjectMapper m = new ObjectMapper();
        List<Item> items = new ArrayList<>();
        if (text.startsWith("[")) {
            JsonNode root = m.readTree(text);
            if (root.size() > all.size()) {
                throw new IllegalArgumentException(generations + ": " + root.size() + " problems, but only " + all.size() + " are known");
            }
            for (int i = 0; i < root.size(); i++) {
                for (JsonNode g : root.get(i)) {
                    items.add(new Item(all.get(i), Programs.program(all.get(i), g.asText())));
                }
            }
            return items;
        }
        Map<String, Problem> byTask = new LinkedHashMap<>();
        all.forEach(p -> byTask.put(p.taskId(), p));
        int lineNo = 0;
        for (String line : text.lines().toList()) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = m.readTree(line);
            Problem p = byTask.get(n.path("task_id").asText());
            if (p == null) {
                throw new IllegalArgumentException(generations + ":" + lineNo + ": unknown task_id '" + n.path("task_id").asText() + "'");
            }
            items.add(new Item(p, Programs.program(p, p.prompt() + n.path("completion").asText(""))));
        }
        return items;
    }
}
