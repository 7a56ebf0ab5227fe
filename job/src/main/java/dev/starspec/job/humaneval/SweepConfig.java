package dev.starspec.job.humaneval;

import dev.starspec.engine.decode.Draft;
import java.util.Locale;

/**
 * One configuration of a sweep, written {@code <quant>[+draft[:<quant>]|+prompt-lookup]}: {@code fp32},
 * {@code int8+draft:int8}, {@code int4+draft:int8}, {@code int8+prompt-lookup}. A draft without a quantization
 * uses the target's.
 */
public record SweepConfig(String name, String targetQuant, String draftQuant, boolean promptLookup) {

    public static SweepConfig parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        String[] parts = s.split("\\+", 2);
        String target = quant(parts[0], spec);
        if (parts.length == 1) {
            return new SweepConfig(s, target, null, false);
        }
        if (parts[1].equals(Draft.PromptLookup.ID)) {
            return new SweepConfig(s, target, null, true);
        }
        if (parts[1].equals("draft")) {
            return new SweepConfig(s, target, target, false);
        }
        if (parts[1].startsWith("draft:")) {
            return new SweepConfig(s, target, quant(parts[1].substring("draft:".length()), spec), false);
        }
        throw new IllegalArgumentException("config '" + spec + "': after '+' expected draft, draft:<quant> or prompt-lookup");
    }

    private static String quant(String q, String spec) {
        if (!q.equals("fp32") && !q.equals("int8") && !q.equals("int4")) {
            throw new IllegalArgumentException("config '" + spec + "': unknown quantization '" + q + "' (fp32, int8, int4)");
        }
        return q;
    }

    public boolean speculative() {
        return promptLookup || draftQuant != null;
    }

    /** Table 1's "precision" column. */
    public String precision() {
        return switch (targetQuant) {
            case "int8" -> "A8W8";
            case "int4" -> "W4 (A8 in the kernel)";
            default -> "FP32";
        };
    }

    public String method() {
        String base = switch (targetQuant) {
            case "int8" -> "SmoothQuant INT8";
            case "int4" -> "RTN INT4, group 128";
            default -> "baseline";
        };
        if (promptLookup) {
            return base + " + prompt lookup";
        }
        return draftQuant == null ? base : base + " + draft (" + draftQuant + ")";
    }

    /** A folder name for this configuration's outputs. */
    public String folder() {
        return name.replace('+', '_').replace(':', '-');
    }
}
