package dev.starspec.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shape of a GPTBigCode model: what {@code config.json} says, reduced to what the forward pass needs.
 *
 * @param multiQuery one key/value head shared by all query heads (StarCoder), or one per query head
 */
public record ModelConfig(
        int nEmbd,
        int nLayer,
        int nHead,
        int nInner,
        int nPositions,
        int vocabSize,
        boolean multiQuery,
        Activation activation,
        double layerNormEpsilon,
        int bosTokenId,
        int eosTokenId) {

    public ModelConfig {
        requirePositive("n_embd", nEmbd);
        requirePositive("n_layer", nLayer);
        requirePositive("n_head", nHead);
        requirePositive("n_inner", nInner);
        requirePositive("n_positions", nPositions);
        requirePositive("vocab_size", vocabSize);
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("n_embd " + nEmbd + " is not a multiple of n_head " + nHead);
        }
        if (!(layerNormEpsilon > 0)) {
            throw new IllegalArgumentException("layer_norm_epsilon must be positive, got " + layerNormEpsilon);
        }
        if (eosTokenId < 0 || eosTokenId >= vocabSize || bosTokenId < 0 || bosTokenId >= vocabSize) {
            throw new IllegalArgumentException("bos/eos token ids must lie in the vocabulary");
        }
    }

    public int headDim() {
        return nEmbd / nHead;
    }

    public int kvHeads() {
        return multiQuery ? 1 : nHead;
    }

    /** Width of one position's keys (and of its values) in the cache: all key/value heads side by side. */
    public int kvDim() {
        return kvHeads() * headDim();
    }

    /** Parameters with the lm_head tied to the token embedding (counted once). */
    public long parameterCount() {
        long perLayer = 2L * 2 * nEmbd                               // ln_1, ln_2
                + (long) nEmbd * (nEmbd + 2L * kvDim()) + nEmbd + 2L * kvDim() // c_attn
                + (long) nEmbd * nEmbd + nEmbd                        // attn.c_proj
                + (long) nEmbd * nInner + nInner                      // mlp.c_fc
                + (long) nInner * nEmbd + nEmbd;                      // mlp.c_proj
        return (long) vocabSize * nEmbd + (long) nPositions * nEmbd + nLayer * perLayer + 2L * nEmbd;
    }

    /** Reads a Hugging Face {@code config.json}; every problem is reported with the file's path. */
    public static ModelConfig read(Path configJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(configJson));
        } catch (IOException e) {
            throw new CheckpointException(configJson, "cannot read config: " + e.getMessage(), e);
        }
        try {
            return fromHfJson(root);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(configJson, e.getMessage(), e);
        }
    }

    public static ModelConfig fromHfJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config is not a JSON object");
        }
        String type = root.path("model_type").asText("gpt_bigcode");
        if (!type.equals("gpt_bigcode")) {
            throw new IllegalArgumentException("model_type '" + type + "' is not gpt_bigcode");
        }
        if (!root.path("scale_attn_weights").asBoolean(true)) {
            throw new IllegalArgumentException("scale_attn_weights=false is not supported");
        }
        int nEmbd = requiredInt(root, "n_embd");
        JsonNode inner = root.get("n_inner");
        return new ModelConfig(
                nEmbd,
                requiredInt(root, "n_layer"),
                requiredInt(root, "n_head"),
                inner == null || inner.isNull() ? 4 * nEmbd : inner.asInt(),
                requiredInt(root, "n_positions"),
                requiredInt(root, "vocab_size"),
                root.path("multi_query").asBoolean(true),
                Activation.fromHfName(root.path("activation_function").asText("gelu_pytorch_tanh")),
                root.path("layer_norm_epsilon").asDouble(1e-5),
                root.path("bos_token_id").asInt(0),
                root.path("eos_token_id").asInt(0));
    }

    /** The Hugging Face form, so an artifact's manifest (and test checkpoints) carry a familiar config. */
    public ObjectNode toHfJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("model_type", "gpt_bigcode");
        n.putArray("architectures").add("GPTBigCodeForCausalLM");
        n.put("n_embd", nEmbd);
        n.put("n_layer", nLayer);
        n.put("n_head", nHead);
        n.put("n_inner", nInner);
        n.put("n_positions", nPositions);
        n.put("vocab_size", vocabSize);
        n.put("multi_query", multiQuery);
        n.put("activation_function", activation.hfName());
        n.put("layer_norm_epsilon", layerNormEpsilon);
        n.put("bos_token_id", bosTokenId);
        n.put("eos_token_id", eosTokenId);
        n.put("scale_attn_weights", true);
        n.put("tie_word_embeddings", true);
        return n;
    }

    private static int requiredInt(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw new IllegalArgumentException("missing or non-integer '" + key + "'");
        }
        return v.asInt();
    }

    private static void requirePositive(String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be positive, got " + value);
        }
    }
}
