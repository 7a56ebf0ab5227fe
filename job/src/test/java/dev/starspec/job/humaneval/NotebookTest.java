package dev.starspec.job.humaneval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.job.SparkTestSession;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * notebooks/humaneval_report.ipynb runs headless over a fresh sweep's output and draws its table and plots, so it
 * cannot rot. It needs Debian's Jupyter, pandas and matplotlib ({@code .ci/run} installs them and sets
 * {@code STARSPEC_REQUIRE_NOTEBOOK=1}, which makes their absence a failure instead of a skip).
 */
class NotebookTest {

    @Test
    void notebookReproducesTheReportFromASweep(@TempDir Path tmp) throws Exception {
        boolean required = "1".equals(System.getenv("STARSPEC_REQUIRE_NOTEBOOK"));
        boolean available = run(tmp, 60, "/usr/bin/python3", "-c", "import pandas, matplotlib, nbconvert, ipykernel") == 0;
        if (required) {
            assertTrue(available, "Jupyter with pandas and matplotlib is required here (apt-get install jupyter-nbconvert "
                    + "python3-pandas python3-matplotlib python3-ipykernel)");
        }
        Assumptions.assumeTrue(available, "Debian's Jupyter, pandas and matplotlib are not installed");

        SparkTestSession.get();
        List<Problem> problems = Problems.load(ProjectFiles.data("humaneval/HumanEval.jsonl.gz")).subList(0, 4);
        Path sweep = tmp.resolve("sweep");
        HumanEvalSweep run = new HumanEvalSweep(List.of(SweepConfig.parse("fp32"), SweepConfig.parse("fp32+prompt-lookup")),
                new HumanEvalSweep.Models(ProjectFiles.tinyTarget().toString(), ProjectFiles.tinyDraft().toString(), Map.of(), Map.of()),
                new HumanEvalSweep.Settings(1, 0, 1, 24, dev.starspec.engine.decode.DraftLength.fixed(5), 1, 3.0, 1, 2, null), problems, sweep);
        dev.starspec.job.report.SweepReport.write(sweep, run.run(s -> { }), run.machineNote());

        Path executed = tmp.resolve("executed.ipynb");
        Path notebook = ProjectFiles.root().resolve("notebooks/humaneval_report.ipynb");
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute",
                "--ExecutePreprocessor.timeout=120", "--output", executed.toString(), notebook.toString())
                .directory(tmp.toFile()).redirectErrorStream(true);
        pb.environment().put("SWEEP_DIR", sweep.toString());
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
        pb.environment().put("HOME", tmp.toString());
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "nbconvert timed out");
        assertEquals(0, p.exitValue(), log);

        JsonNode nb = new ObjectMapper().readTree(executed.toFile());
        int images = 0;
        boolean table = false;
        for (JsonNode cell : nb.get("cells")) {
            for (JsonNode o : cell.path("outputs")) {
                assertTrue(!o.path("output_type").asText().equals("error"), "a cell failed: " + o);
                images += o.path("data").has("image/png") ? 1 : 0;
                table |= o.path("data").path("text/html").toString().contains("fp32+prompt-lookup");
            }
        }
        assertTrue(table, "the Table-1 dataframe lists the configurations");
        assertEquals(4, images, "latency, acceptance, speedup and pass@1 plots");
    }

    private static int run(Path dir, int seconds, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(seconds, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
