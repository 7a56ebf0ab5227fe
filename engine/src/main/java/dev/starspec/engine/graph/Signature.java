package dev.starspec.engine.graph;

/**
 * The contract between the graph and the runtime: one graph serves prefill, decode and speculative
 * verification.
 *
 * <pre>
 * inputs   input_ids       int64 [batch, new]          the N new tokens
 *          position_ids    int64 [batch, new]          their positions (for the learned position embedding)
 *          attention_mask  int64 [batch, past + new]   1 = attend to this slot, 0 = padding
 *          logits_from     int64 [1]                   first of the new positions whose logits are wanted
 *          past_key.i      float [batch, past, kv]     cached keys of layer i (kv = key/value heads * head_dim)
 *          past_value.i    float [batch, past, kv]
 * outputs  logits          float [batch, new - logits_from, vocab]
 *          next_token      int64 [batch, new - logits_from]          argmax of each logits row (first on ties)
 *          next_token_prob float [batch, new - logits_from]          its softmax probability (computed only if asked)
 *          new_key.i       float [batch, new, kv]      keys of the new tokens only; the caller appends them
 *          new_value.i     float [batch, new, kv]
 * </pre>
 *
 * Greedy decoding reads {@code next_token} and never scans the 49152-wide rows itself.
 *
 * <p>Causality is by slot: new token j (slot past + j) attends to slots 0..past + j. Prefill asks for one row
 * of logits, verification of K draft tokens for K + 1; the 49152-wide lm_head never runs over a whole prompt.
 */
public final class Signature {
    public static final String INPUT_IDS = "input_ids";
    public static final String POSITION_IDS = "position_ids";
    public static final String ATTENTION_MASK = "attention_mask";
    public static final String LOGITS_FROM = "logits_from";
    public static final String LOGITS = "logits";
    public static final String NEXT_TOKEN = "next_token";
    public static final String NEXT_TOKEN_PROB = "next_token_prob";

    /** Bumped whenever the inputs or outputs above change meaning; artifacts record it. */
    public static final int VERSION = 2;

    private Signature() {}

    public static String pastKey(int layer) {
        return "past_key." + layer;
    }

    public static String pastValue(int layer) {
        return "past_value." + layer;
    }

    public static String newKey(int layer) {
        return "new_key." + layer;
    }

    public static String newValue(int layer) {
        return "new_value." + layer;
    }

    /** Calibration graphs also expose the input of every linear layer under this name. */
    public static String linearInput(String linear) {
        return "input_of." + linear;
    }
}
