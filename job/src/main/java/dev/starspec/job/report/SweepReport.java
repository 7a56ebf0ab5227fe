package dev.starspec.job.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.job.humaneval.ConfigResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The sweep's report in the layout of the study's Table 1 (configuration, quantization, precision, pass@1, TTFT and
 * its speedup, TPOT and its speedup, plus acceptance for draft configurations; speedups against the first
 * configuration), as Markdown and HTML, with PNG plots, and the same figures as JSON/CSV for notebooks.
 */
public final class SweepReport {

    private SweepReport() {}

    /** Writes the report files into {@code dir}; returns report.md's text without its plots, for a terminal. */
    public static String write(Path dir, List<ConfigResult> results, String machine) {
        try {
            Files.createDirectories(dir);
            ConfigResult base = results.get(0);
            List<String[]> table = new ArrayList<>();
            int maxK = results.stream().mapToInt(ConfigResult::samplesPerProblem).min().orElse(1);
            List<Integer> ks = new ArrayList<>(List.of(1));
            if (maxK >= 10) {
                ks.add(10);
            }
            if (maxK >= 100) {
                ks.add(100);
            }
            List<String> header = new ArrayList<>(List.of("Configuration", "Quantization", "Precision", "Batch"));
            ks.forEach(k -> header.add("pass@" + k));
            header.addAll(List.of("TTFT (ms)", "TTFT speedup", "TPOT (ms)", "TPOT speedup", "Draft acceptance"));
            double baseTtft = base.ttft().mean();
            double baseTpot = base.tpot().mean();
            ObjectMapper m = new ObjectMapper();
            ArrayNode summary = m.createArrayNode();
            for (ConfigResult r : results) {
                double ttft = r.ttft().mean();
                double tpot = r.tpot().mean();
                List<String> row = new ArrayList<>(List.of(r.config().name(), r.config().method(), r.config().precision(),
                        r.batchSize()));
                ObjectNode s = summary.addObject();
                s.put("config", r.config().name());
                s.put("method", r.config().method());
                s.put("precision", r.config().precision());
                s.put("model", r.model());
                s.put("draft", r.draft());
                s.put("batch_size", r.batchSize());
                s.put("problems", r.tallies().size());
                s.put("samples_per_problem", r.samplesPerProblem());
                for (int k : ks) {
                    row.add(String.format("%.2f", 100 * r.passAt(k)));
                    s.put("pass@" + k, r.passAt(k));
                }
                row.addAll(List.of(String.format("%.1f", ttft), String.format("%.2fx", baseTtft / ttft),
                        String.format("%.2f", tpot), String.format("%.2fx", baseTpot / tpot),
                        acceptanceCell(r)));
                table.add(row.toArray(String[]::new));
                s.put("ttft_ms_mean", ttft);
                s.put("ttft_ms_p10", r.ttft().quantile(0.1));
                s.put("ttft_ms_p90", r.ttft().quantile(0.9));
                s.put("ttft_speedup", baseTtft / ttft);
                s.put("tpot_ms_mean", tpot);
                s.put("tpot_ms_p10", r.tpot().quantile(0.1));
                s.put("tpot_ms_p90", r.tpot().quantile(0.9));
                s.put("tpot_speedup", baseTpot / tpot);
                if (!Double.isNaN(r.acceptance())) {
                    s.put("acceptance_rate", r.acceptance());
                }
            }
            Files.writeString(dir.resolve("summary.json"), summary.toPrettyString());
            writeCsv(dir, results);
            plots(dir, results);
            String text = markdown(header, table, machine);
            StringBuilder plots = new StringBuilder();
            for (String png : List.of("ttft.png", "tpot.png", "acceptance.png", "speedup_vs_acceptance.png")) {
                plots.append("![").append(png).append("](").append(png).append(")\n\n");
            }
            Files.writeString(dir.resolve("report.md"), text + plots);
            Files.writeString(dir.resolve("report.html"), html(header, table, machine));
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report in " + dir, e);
        }
    }

    private static void plots(Path dir, List<ConfigResult> results) {
        List<String> names = results.stream().map(r -> r.config().name()).toList();
        Charts.bars(dir.resolve("tpot.png"), "Time per output token (mean, p10-p90)", "ms", names,
                results.stream().mapToDouble(r -> r.tpot().mean()).toArray(),
                results.stream().mapToDouble(r -> r.tpot().quantile(0.1)).toArray(),
                results.stream().mapToDouble(r -> r.tpot().quantile(0.9)).toArray());
        Charts.bars(dir.resolve("ttft.png"), "Time to first token (mean, p10-p90)", "ms", names,
                results.stream().mapToDouble(r -> r.ttft().mean()).toArray(),
                results.stream().mapToDouble(r -> r.ttft().quantile(0.1)).toArray(),
                results.stream().mapToDouble(r -> r.ttft().quantile(0.9)).toArray());
        List<Charts.Series> acceptance = new ArrayList<>();
        List<Charts.Series> speedups = new ArrayList<>();
        for (ConfigResult r : results) {
            if (!r.config().speculative()) {
                continue;
            }
            acceptance.add(new Charts.Series(r.config().name(),
                    r.samples().stream().mapToDouble(s -> s.acceptance() == null ? Double.NaN : s.acceptance()).toArray(), null));
            ConfigResult base = baselineFor(r, results);
            Map<String, Double> baseTpot = base.meanTpotByTask();
            Map<String, Double> tpot = r.meanTpotByTask();
            Map<String, Double> acc = r.acceptanceByTask();
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            tpot.forEach((task, t) -> {
                Double b = baseTpot.get(task);
                Double a = acc.get(task);
                if (b != null && a != null) {
                    xs.add(a);
                    ys.add(b / t);
                }
            });
            speedups.add(new Charts.Series(r.config().name() + " vs " + base.config().name(),
                    xs.stream().mapToDouble(Double::doubleValue).toArray(), ys.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        Charts.histogram(dir.resolve("acceptance.png"), "Draft acceptance rate per generation", "acceptance rate", acceptance, 10);
        Charts.scatter(dir.resolve("speedup_vs_acceptance.png"), "TPOT speedup against acceptance, per problem",
                "acceptance rate", "TPOT speedup", speedups, 1.0);
    }

    /** A speculative configuration is compared with the same target without speculation, if the sweep has it. */
    static ConfigResult baselineFor(ConfigResult r, List<ConfigResult> all) {
        return all.stream().filter(o -> !o.config().speculative() && o.config().targetQuant().equals(r.config().targetQuant()))
                .findFirst().orElse(all.get(0));
    }

    private static void writeCsv(Path dir, List<ConfigResult> results) throws IOException {
        StringBuilder rows = new StringBuilder("config,task_id,id,passed,result,ttft_ms,tpot_ms,acceptance_rate,completion_tokens\n");
        for (ConfigResult r : results) {
            for (ConfigResult.Sample s : r.samples()) {
                rows.append(csv(r.config().name())).append(',').append(csv(s.taskId())).append(',').append(csv(s.id()))
                        .append(',').append(s.passed()).append(',').append(csv(s.result())).append(',')
                        .append(num(s.ttftMs())).append(',').append(num(s.tpotMs())).append(',').append(num(s.acceptance()))
                        .append(',').append(s.completionTokens()).append('\n');
            }
        }
        Files.writeString(dir.resolve("rows.csv"), rows);
    }

    /**
     * A speculative configuration that proposed nothing (the adaptive planner turned the draft off, or prompt lookup
     * never found a match): say so, not just "-".
     */
    private static String acceptanceCell(ConfigResult r) {
        if (!Double.isNaN(r.acceptance())) {
            return String.format("%.1f%%", 100 * r.acceptance());
        }
        return r.config().speculative() ? "not drafted" : "-";
    }

    private static String num(Double v) {
        return v == null || v.isNaN() ? "" : v.toString();
    }

    private static String csv(String s) {
        return s == null ? "" : "\"" + s.replace("\"", "\"\"") + "\"";
    }

    private static String markdown(List<String> header, List<String[]> table, String machine) {
        StringBuilder md = new StringBuilder("# HumanEval sweep\n\n");
        md.append(machine).append("\n\n");
        md.append("| ").append(String.join(" | ", header)).append(" |\n");
        md.append("|").append("---|".repeat(header.size())).append('\n');
        for (String[] row : table) {
            md.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        md.append("\nSpeedups are against the first configuration. Batch is the rows each task decoded at once: 1 gives "
                + "single-stream latency, as the study measured it; a larger batch trades each row's latency for "
                + "throughput. pass@k uses the unbiased estimator of Chen et al. "
                + "(2021); generations follow bigcode-evaluation-harness (prompt stripped, cut at the stop sequences).\n\n");
        md.append("For comparison, the study this follows (StarCoder-15.5B on Xeon): BF16 33.54 / TTFT 357.9 ms / TPOT "
                + "181.0 ms; INT8 33.96 / 163.4 (2.19x) / 82.4 (2.20x); INT4 32.80 / 425.1 (0.84x) / 54.0 (3.35x); INT8 + "
                + "assisted generation 33.96 / 183.6 (1.95x) / 24.8 (7.30x).\n\n");
        return md.toString();
    }

    private static String html(List<String> header, List<String[]> table, String machine) {
        StringBuilder h = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>HumanEval sweep</title>"
                + "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                + "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}"
                + "td:first-child,td:nth-child(2),td:nth-child(3),td:nth-child(4){text-align:left}</style></head><body>\n");
        h.append("<h1>HumanEval sweep</h1>\n<p>").append(escape(machine)).append("</p>\n<table>\n<tr>");
        header.forEach(c -> h.append("<th>").append(escape(c)).append("</th>"));
        h.append("</tr>\n");
        for (String[] row : table) {
            h.append("<tr>");
            for (String c : row) {
                h.append("<td>").append(escape(c)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n<p>Speedups are against the first configuration.</p>\n");
        for (String svg : List.of("ttft.svg", "tpot.svg", "acceptance.svg", "speedup_vs_acceptance.svg")) {
            h.append("<p><img src=\"").append(svg).append("\" alt=\"").append(svg).append("\"></p>\n");
        }
        return h.append("</body></html>\n").toString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
