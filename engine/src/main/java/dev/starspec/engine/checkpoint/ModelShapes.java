package dev.starspec.engine.checkpoint;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The StarCoder-family shapes worth benchmarking (from the published configs; see data/PROVENANCE.md), and
 * explicit shapes written as {@code n_embd=2048,n_layer=24,n_head=16[,n_inner=..][,n_positions=..]
 * [,vocab_size=..][,multi_query=false][,activation=gelu]}.
 */
public final class ModelShapes {

    private static final Map<String, ModelConfig> NAMED = new LinkedHashMap<>();

    static {
        NAMED.put("tiny_starcoder_py", new ModelConfig(768, 20, 12, 3072, 8192, 49152, true, Activation.GELU_TANH, 1e-5, 0, 0));
        NAMED.put("starcoderbase-1b", new ModelConfig(2048, 24, 16, 8192, 8192, 49152, true, Activation.GELU_TANH, 1e-5, 0, 0));
        NAMED.put("starcoder", new ModelConfig(6144, 40, 48, 24576, 8192, 49152, true, Activation.GELU, 1e-5, 0, 0));
    }

    private ModelShapes() {}

    public static Iterable<String> names() {
        return NAMED.keySet();
    }

    public static ModelConfig parse(String spec) {
        ModelConfig named = NAMED.get(spec.trim().toLowerCase(Locale.ROOT));
        if (named != null) {
            return named;
        }
        if (!spec.contains("=")) {
            throw new IllegalArgumentException("unknown shape '" + spec + "': use one of " + NAMED.keySet()
                    + " or explicit dimensions such as n_embd=2048,n_layer=24,n_head=16");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            String[] pair = part.split("=", 2);
            if (pair.length != 2) {
                throw new IllegalArgumentException("shape parameter '" + part + "' is not key=value");
            }
            kv.put(pair[0].trim(), pair[1].trim());
        }
        int nEmbd = intOf(kv, "n_embd", null);
        ModelConfig c = new ModelConfig(
                nEmbd,
                intOf(kv, "n_layer", null),
                intOf(kv, "n_head", null),
                intOf(kv, "n_inner", 4 * nEmbd),
                intOf(kv, "n_positions", 8192),
                intOf(kv, "vocab_size", 49152),
                Boolean.parseBoolean(kv.getOrDefault("multi_query", "true")),
                Activation.fromHfName(kv.getOrDefault("activation", "gelu_pytorch_tanh")),
                1e-5, 0, 0);
        kv.keySet().removeAll(java.util.List.of("n_embd", "n_layer", "n_head", "n_inner", "n_positions",
                "vocab_size", "multi_query", "activation"));
        if (!kv.isEmpty()) {
            throw new IllegalArgumentException("unknown shape parameters " + kv.keySet());
        }
        return c;
    }

    private static int intOf(Map<String, String> kv, String key, Integer fallback) {
        String v = kv.get(key);
        if (v == null) {
            if (fallback == null) {
                throw new IllegalArgumentException("shape needs " + key);
            }
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + v + " is not an integer");
        }
    }
}
