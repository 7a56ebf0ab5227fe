package dev.starspec.job.humaneval;

import dev.starspec.udfs.OutputRow;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scores generated rows on the executors: each completion becomes its HumanEval program and runs in the
 * {@link Sandbox}, as many at a time as the executor has cores. Adds {@code task_id}, {@code passed} and
 * {@code result} to the generation row.
 */
public final class ExecutePrograms implements MapPartitionsFunction<Row, Row> {

    private static final long serialVersionUID = 1L;

    private final Map<String, Problem> problems;
    private final double timeoutSeconds;

    public ExecutePrograms(Map<String, Problem> problems, double timeoutSeconds) {
        this.problems = problems;
        this.timeoutSeconds = timeoutSeconds;
    }

    public static StructType schema(StructType generations) {
        return generations.add("task_id", DataTypes.StringType, false)
                .add("passed", DataTypes.BooleanType, false)
                .add("result", DataTypes.StringType, false);
    }

    /** {@code HumanEval/3#7} (sample 7) belongs to {@code HumanEval/3}. */
    public static String taskOf(String id) {
        int hash = id.lastIndexOf('#');
        return hash >= 0 ? id.substring(0, hash) : id;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        List<Row> in = new ArrayList<>();
        rows.forEachRemaining(in::add);
        List<String> programs = new ArrayList<>();
        List<OutputRow> generated = in.stream().map(OutputRow::fromRow).toList();
        for (OutputRow g : generated) {
            Problem p = problems.get(taskOf(g.id()));
            programs.add(g.completion() == null ? null : Programs.forCompletion(p, g.completion()));
        }
        List<String> runnable = programs.stream().filter(java.util.Objects::nonNull).toList();
        Sandbox sandbox = new Sandbox("python3", timeoutSeconds);
        Iterator<Sandbox.Outcome> outcomes = new Evaluator(sandbox, Runtime.getRuntime().availableProcessors()).run(runnable).iterator();
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            Row r = in.get(i);
            String error = generated.get(i).error();
            Sandbox.Outcome o = programs.get(i) == null ? new Sandbox.Outcome(false, "failed: no completion ("
                    + (error == null ? "none" : error) + ")") : outcomes.next();
            Object[] values = new Object[r.size() + 3];
            for (int c = 0; c < r.size(); c++) {
                values[c] = r.get(c);
            }
            values[r.size()] = taskOf(generated.get(i).id());
            values[r.size() + 1] = o.passed();
            values[r.size() + 2] = o.result();
            out.add(RowFactory.create(values));
        }
        return out.iterator();
    }
}
