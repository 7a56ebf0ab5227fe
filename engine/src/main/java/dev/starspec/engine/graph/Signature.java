package dev.starspec.engine.graph;

/**
 * The contract between the graph and the runtime: one graph serves prefill, decode and speculative verification,
 * for up to {@value #ROWS} sequences at once, each with its own new tokens and its own cached length.
 *
 * <pre>
 * inputs   input_ids        int64 [1, tokens]      every row's new tokens, row after row (ragged: no padding),
 *                                                  then possibly one spare token (below)
 *          position_ids     int64 [1, tokens]      their positions within their own rows
 *          window_index     int64 [batch, window]  row b's s-th new token, as an index into the tokens (s &lt; n_b);
 *                                                  any valid index for s &gt;= n_b (padding: computed, never used)
 *          token_index      int64 [tokens]         b * window + s for each token: its place in the padded layout
 *          past_length      int64 [batch]          positions already cached for each row
 *          row_tokens       int64 [ROWS + 1]       tokens of the pass's i-th row (n_i; 0 past the last row), then
 *                                                  the spare tokens: the cut of each layer's new keys into rows
 *          logits_index     int64 [rows]           the tokens whose logits are wanted
 *          past_key.l       float [batch, capacity, kv]   the KV cache (kv = kv_heads * head_dim, token major):
 *          past_value.l     float [batch, capacity, kv]   row b's slots [0, past_length[b]) hold its past
 * outputs  logits           float [rows, vocab]
 *          next_token       int64 [rows]           argmax of each logits row (first on ties)
 *          next_token_prob  float [rows]           its softmax probability (computed only if asked)
 *          new_key.l.i      float [1, n_i, kv]     the pass's i-th row's new keys (values): bound to that row's
 *          new_value.l.i    float [1, n_i, kv]     next n_i slots of past_key.l (past_value.l), written in place
 * </pre>
 *
 * <p>Each layer writes its new keys and values into the cache before its attention reads the cache, so every
 * token attends to its row's slots {@code 0 .. past_length[b] + s} at their absolute positions, in one softmax,
 * whatever else shares the pass and however the row's tokens were split into passes. Everything but attention
 * runs over the ragged tokens, so a pass costs what its real tokens cost; attention runs over the padded layout
 * {@code [batch, window]}.
 *
 * <p>The spare token: ONNX Runtime's quantized matmul computes rows in pairs and a lone last row another way, so
 * a row's numbers would depend on whether the pass had an odd number of tokens. The runtime keeps every pass even
 * (one spare token, belonging to no row, when needed) and asks for an even number of logits rows.
 *
 * <p>Prefill asks for one row of logits, verification of K draft tokens for K + 1; the 49152-wide lm_head never
 * runs over a whole prompt. Greedy decoding reads {@code next_token} and never scans the vocabulary itself.
 */
public final class Signature {
    public static final String INPUT_IDS = "input_ids";
    public static final String POSITION_IDS = "position_ids";
    public static final String WINDOW_INDEX = "window_index";
    public static final String TOKEN_INDEX = "token_index";
    public static final String PAST_LENGTH = "past_length";
    public static final String ROW_TOKENS = "row_tokens";
    public static final String LOGITS_INDEX = "logits_index";
    public static final String LOGITS = "logits";
    public static final String NEXT_TOKEN = "next_token";
    public static final String NEXT_TOKEN_PROB = "next_token_prob";

    /** The most rows one pass can carry. */
    public static final int ROWS = 64;

    /** Bumped whenever the inputs or outputs above change meaning; artifacts record it. */
    public static final int VERSION = 3;

    private Signature() {}

    public static String pastKey(int layer) {
        return "past_key." + layer;
    }

    public static String pastValue(int layer) {
        return "past_value." + layer;
    }

    public static String newKey(int layer, int row) {
        return "new_key." + layer + "." + row;
    }

    public static String newValue(int layer, int row) {
        return "new_value." + layer + "." + row;
    }

    /**
     * A span of the model that starts after the embedding takes the residual stream instead of token ids:
     * {@code hidden} {@code [1, tokens, embd]} and the previous block's output not yet added to it,
     * {@code pending}; a span that ends before the head returns both ({@code hidden_out}, {@code pending_out}).
     */
    public static final String HIDDEN = "hidden";
    public static final String PENDING = "pending";
    public static final String HIDDEN_OUT = "hidden_out";
    public static final String PENDING_OUT = "pending_out";

    /** Calibration graphs also expose the input of every linear layer under this name ({@code [1, tokens, in]}). */
    public static String linearInput(String linear) {
        return "input_of." + linear;
    }
}
