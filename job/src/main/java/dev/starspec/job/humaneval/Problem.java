package dev.starspec.job.humaneval;

/** One HumanEval problem, as in OpenAI's HumanEval.jsonl.gz. */
public record Problem(String taskId, String prompt, String canonicalSolution, String test, String entryPoint)
        implements java.io.Serializable {}
