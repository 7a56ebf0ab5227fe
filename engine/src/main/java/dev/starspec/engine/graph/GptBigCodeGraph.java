package dev.starspec.engine.graph;

import static dev.starspec.engine.graph.GraphBuilder.Attr;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.checkpoint.WeightSource;
import java.util.Map;

/**
 * The GPTBigCode forward pass (StarCoder's architecture) written as one ONNX graph with the I/O of
 * {@link Signature}:
 *
 * <pre>
 * h = wte[input_ids] + wpe[position_ids]                  every row's new tokens, one ragged sequence
 * for each block:
 *     q, k, v = split(ln_1(h) W_attn^T + b)               k, v: one head shared by all query heads
 *     K, V = cache ++ k, cache ++ v                          (multi-query), or one per query head
 *     h += softmax(q K^T / sqrt(d) + mask) V  W_proj^T + b   per row, over its own cache and window
 *     h += gelu(ln_2(h) W_fc^T + b) W_mlp_proj^T + b
 * logits = ln_f(h[logits_index]) wte^T                   (lm_head tied to the token embedding)
 * </pre>
 *
 * How each linear layer is stored and computed is left to a {@link LinearScheme}; SmoothQuant's smoothing is
 * applied here because folding it into a LayerNorm needs to know which LayerNorm feeds which layer.
 */
public final class GptBigCodeGraph {

    /**
     * @param exposeLinearInputs also output every linear layer's input (for calibration)
     */
    public record Options(LinearScheme scheme, Smoothing smoothing, boolean exposeLinearInputs) {
        public static Options of(LinearScheme scheme) {
            return new Options(scheme, Smoothing.NONE, false);
        }
    }

    /**
     * The part of the model a graph computes: blocks {@code [first, end)}, after the embedding when {@code first} is
     * 0 and before the head when {@code end} is the last layer. The whole model is one span; conversion streams a
     * model through one-block spans (each the very nodes the whole graph has for that block), with the residual
     * stream passed between them as {@link Signature#HIDDEN} and {@link Signature#PENDING}.
     */
    public record Span(int first, int end) {
        public static Span whole(ModelConfig c) {
            return new Span(0, c.nLayer());
        }

        public static Span block(int layer) {
            return new Span(layer, layer + 1);
        }

        public boolean embeds() {
            return first == 0;
        }

        public boolean heads(ModelConfig c) {
            return end == c.nLayer();
        }
    }

    /** A linear layer as named in the graph, with its Hugging Face weight name and shape {@code [out, in]}. */
    public record Linear(String name, String hfName, int out, int in) {}

    /** Every linear layer of the blocks, in graph order (the lm_head is separate). */
    public static java.util.List<Linear> linearLayers(ModelConfig c) {
        java.util.List<Linear> all = new java.util.ArrayList<>();
        for (int l = 0; l < c.nLayer(); l++) {
            String at = "h." + l + ".";
            String hf = "transformer.h." + l + ".";
            all.add(new Linear(at + "attn.c_attn", hf + "attn.c_attn", c.nEmbd() + 2 * c.kvDim(), c.nEmbd()));
            all.add(new Linear(at + "attn.c_proj", hf + "attn.c_proj", c.nEmbd(), c.nEmbd()));
            all.add(new Linear(at + "mlp.c_fc", hf + "mlp.c_fc", c.nInner(), c.nEmbd()));
            all.add(new Linear(at + "mlp.c_proj", hf + "mlp.c_proj", c.nEmbd(), c.nInner()));
        }
        return all;
    }

    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    private static final int INT64 = TensorProto.DataType.INT64_VALUE;
    /** Added to the scores of masked slots; finite, so a fully masked (padding) row stays NaN-free. */
    private static final float MASKED = -1e9f;

    private final GraphBuilder g;
    private final ModelConfig c;
    private final WeightSource weights;
    private final Options options;

    private GptBigCodeGraph(GraphBuilder g, WeightSource weights, Options options) {
        this.g = g;
        this.c = weights.config();
        this.weights = weights;
        this.options = options;
    }

    public static OnnxMl.ModelProto build(WeightSource weights, Options options, ExternalData data,
                                          String producerVersion, Map<String, String> metadata) {
        return build(weights, options, Span.whole(weights.config()), data, producerVersion, metadata);
    }

    public static OnnxMl.ModelProto build(WeightSource weights, Options options, Span span, ExternalData data,
                                          String producerVersion, Map<String, String> metadata) {
        GraphBuilder g = new GraphBuilder(data);
        new GptBigCodeGraph(g, weights, options).forward(span);
        return g.build(producerVersion, metadata);
    }

    private void forward(Span span) {
        boolean blocks = span.end() > span.first();
        String ids = span.embeds() ? g.input(Signature.INPUT_IDS, INT64, 1, "tokens") : null;
        String positions = span.embeds() ? g.input(Signature.POSITION_IDS, INT64, 1, "tokens") : null;
        Rows rows = null;
        if (blocks) {
            String window = g.input(Signature.WINDOW_INDEX, INT64, "batch", "window");
            String tokenIndex = g.input(Signature.TOKEN_INDEX, INT64, "tokens");
            String pastLength = g.input(Signature.PAST_LENGTH, INT64, "batch");
            String rowTokens = g.input(Signature.ROW_TOKENS, INT64, Signature.ROWS + 1);
            for (int l = span.first(); l < span.end(); l++) {
                g.input(Signature.pastKey(l), FLOAT, "batch", "capacity", c.kvDim());
                g.input(Signature.pastValue(l), FLOAT, "batch", "capacity", c.kvDim());
            }
            rows = new Rows(window, tokenIndex, rowTokens, attentionBias(window, pastLength, span.first()));
        }
        String logitsIndex = span.heads(c) ? g.input(Signature.LOGITS_INDEX, INT64, "rows") : null;

        String wte = null;
        String h;
        // The residual stream: each block's output is added to h by the next LayerNorm (a fused
        // SkipLayerNormalization that also returns the sum), so `pending` is what has yet to be added.
        String pending = null;
        if (span.embeds()) {
            wte = g.weight("wte", weights.read("transformer.wte.weight", c.vocabSize(), c.nEmbd()),
                    c.vocabSize(), c.nEmbd());
            String wpe = g.weight("wpe", weights.read("transformer.wpe.weight", c.nPositions(), c.nEmbd()),
                    c.nPositions(), c.nEmbd());
            h = g.op("Add", "embed", new String[] {
                    g.op("Gather", "embed.tokens", new String[] {wte, ids}),
                    g.op("Gather", "embed.positions", new String[] {wpe, positions})});
        } else {
            h = g.input(Signature.HIDDEN, FLOAT, 1, "tokens", c.nEmbd());
            pending = g.input(Signature.PENDING, FLOAT, 1, "tokens", c.nEmbd());
        }
        for (int layer = span.first(); layer < span.end(); layer++) {
            String[] r = block(layer, h, pending, rows);
            h = r[0];
            pending = r[1];
        }
        if (!span.heads(c)) {
            g.op("Identity", Signature.HIDDEN_OUT, new String[] {h});
            g.output(Signature.HIDDEN_OUT, FLOAT, 1, "tokens", c.nEmbd());
            g.op("Identity", Signature.PENDING_OUT, new String[] {pending});
            g.output(Signature.PENDING_OUT, FLOAT, 1, "tokens", c.nEmbd());
            return;
        }
        head(h, pending, logitsIndex, wte);
    }

    /** The final LayerNorm and the lm_head over the wanted tokens, and the outputs derived from the logits. */
    private void head(String h, String pending, String logitsIndex, String wteNode) {
        String normed = norm("transformer.ln_f", "final.ln", h, pending, null)[0];
        // [1, rows, embd]: kept three-dimensional, the shape in which ONNX Runtime's transposed-weight matmul takes
        // its fast path for one row (as a plain [rows, embd] matrix it packs the whole 49152-wide head every pass).
        String wanted = g.op("Gather", "final.rows", new String[] {normed, logitsIndex}, Attr.of("axis", 1L));
        // HF stores no lm_head when it is tied to wte; a stored one (untied, or a saved copy) is used as is.
        boolean explicitHead = weights.contains("lm_head.weight");
        String headName = explicitHead ? "lm_head.weight" : "transformer.wte.weight";
        // a span without the embedding has no wte to tie to: the scheme then stores the head from wte's values
        String tied = explicitHead ? null : wteNode;
        String logits = options.scheme().lmHead(g, wanted, tied,
                () -> weights.read(headName, c.vocabSize(), c.nEmbd()), c.vocabSize(), c.nEmbd());
        g.op("Reshape", Signature.LOGITS, new String[] {logits, g.constLongs("final.logits_shape", -1, c.vocabSize())});
        g.output(Signature.LOGITS, FLOAT, "rows", c.vocabSize());
        g.op("ArgMax", Signature.NEXT_TOKEN, new String[] {Signature.LOGITS}, Attr.of("axis", -1L), Attr.of("keepdims", 0L));
        g.output(Signature.NEXT_TOKEN, INT64, "rows");
        g.op("ReduceMax", Signature.NEXT_TOKEN_PROB, new String[] {
                g.op("Softmax", "final.probs", new String[] {Signature.LOGITS}, Attr.of("axis", -1L))},
                Attr.of("axes", new long[] {-1}), Attr.of("keepdims", 0L));
        g.output(Signature.NEXT_TOKEN_PROB, FLOAT, "rows");
    }

    /**
     * How attention finds the pass's rows: {@code window} gathers the ragged tokens into {@code [batch, window]},
     * {@code tokens} scatters them back, {@code rowTokens} splits them per row for the cache writes, and
     * {@code bias} is the additive mask every layer shares.
     */
    private record Rows(String window, String tokens, String rowTokens, String bias) {}

    /**
     * The additive mask over the cache's slots: new token s of row b sees slot c when {@code c <= past_length[b]
     * + s} (its row's past and its own window up to itself: causality by absolute position). Laid out as the
     * scores are: {@code [b, window*heads, capacity]} for multi-query, {@code [b, 1, window, capacity]} for
     * multi-head.
     */
    private String attentionBias(String window, String pastLength, int firstLayer) {
        String capacity = g.op("Shape", "mask.capacity", new String[] {Signature.pastKey(firstLayer)},
                Attr.of("start", 1L), Attr.of("end", 2L));
        String width = g.op("Shape", "mask.width", new String[] {window}, Attr.of("start", 1L), Attr.of("end", 2L));
        String scalar = g.constLongs("mask.scalar_axis", 0);
        String zero = g.constLongs("mask.zero", new long[] {0});
        String one = g.constLongs("mask.one", new long[] {1});
        String slots = g.op("Range", "mask.slots", new String[] {zero,
                g.op("Squeeze", "mask.capacity_scalar", new String[] {capacity, scalar}), one});          // [c]
        String news = g.op("Range", "mask.news", new String[] {zero,
                g.op("Squeeze", "mask.width_scalar", new String[] {width, scalar}), one});                // [s]
        String last = g.op("Add", "mask.last", new String[] {                                            // [b, s, 1]
                g.op("Unsqueeze", "mask.past", new String[] {pastLength, g.constLongs("mask.axes12", 1, 2)}),
                g.op("Unsqueeze", "mask.offset", new String[] {news, g.constLongs("mask.axis1", 1)})});
        String allowed = g.op("LessOrEqual", "mask.allowed", new String[] {slots, last});                  // [b, s, c]
        String bias = g.op("Where", "mask.bias3", new String[] {
                allowed, g.constFloat("mask.open", 0f), g.constFloat("mask.closed", MASKED)});
        if (!c.multiQuery()) {
            return g.op("Unsqueeze", "mask.bias", new String[] {bias, g.constLongs("mask.head_axis", 1)});
        }
        // Each new token's row, repeated for its heads: [b, s, 1, c] -> [b, s, heads, c] -> [b, s*heads, c]
        String perHead = g.op("Expand", "mask.per_head", new String[] {
                g.op("Unsqueeze", "mask.bias4", new String[] {bias, g.constLongs("mask.head_axis", 2)}),
                g.constLongs("mask.heads", 1, 1, c.nHead(), 1)});
        return g.op("Reshape", "mask.bias", new String[] {perHead,
                g.op("Concat", "mask.shape", new String[] {g.constLongs("mask.keep_batch", 0, -1), capacity}, Attr.of("axis", 0L))});
    }

    /**
     * One transformer block. {@code pending} is the previous block's MLP output, not yet added to {@code h}.
     * Returns the residual stream after attention and this block's MLP output (pending for the next norm).
     */
    private String[] block(int layer, String h, String pending, Rows rows) {
        String hf = "transformer.h." + layer + ".";
        String at = "h." + layer + ".";
        int kv = c.kvDim();

        String cAttn = at + "attn.c_attn";
        String[] n1 = norm(hf + "ln_1", at + "ln_1", h, pending, cAttn);
        h = n1[1];
        String qkv = linear(n1[0], cAttn, hf + "attn.c_attn", c.nEmbd() + 2 * kv, c.nEmbd(), true, true, qkvRowOrder());
        String[] parts = g.node("", "Split", new String[] {at + "q", at + "k", at + "v"},
                new String[] {qkv, g.constLongs(at + "qkv.sizes", c.nEmbd(), kv, kv)}, Attr.of("axis", 2L));
        String keysWritten = writeToCache(at + "k", parts[1], layer, true, rows);
        String valuesWritten = writeToCache(at + "v", parts[2], layer, false, rows);
        // ONNX Runtime orders nodes by data dependencies only, and attention reads the cache through the graph
        // input: so attention's gather takes its indices through a zero computed from the writes' spare pieces,
        // which keeps it (and everything after it) behind both writes.
        String zero = g.op("Cast", at + "written", new String[] {
                g.op("Mul", at + "written.zero", new String[] {
                        g.op("Add", at + "written.sum", new String[] {keysWritten, valuesWritten}),
                        g.constFloat(at + "written.nothing", 0f)})}, Attr.of("to", (long) INT64));
        String window = g.op("Add", at + "window", new String[] {rows.window(), zero});

        String attended = attention(at, layer, parts[0], window, rows);
        String attnOut = linear(attended, at + "attn.c_proj", hf + "attn.c_proj", c.nEmbd(), c.nEmbd(), true, false, null);

        String cFc = at + "mlp.c_fc";
        String[] n2 = norm(hf + "ln_2", at + "ln_2", h, attnOut, cFc);
        String m = linear(n2[0], cFc, hf + "mlp.c_fc", c.nInner(), c.nEmbd(), false, true, null);
        m = gelu(at + "mlp.gelu", m, g.weight(cFc + ".bias", weights.read(hf + "mlp.c_fc.bias", c.nInner()), c.nInner()));
        m = linear(m, at + "mlp.c_proj", hf + "mlp.c_proj", c.nEmbd(), c.nInner(), true, false, null);
        return new String[] {n2[1], m};
    }

    /**
     * The new tokens' keys (or values), split per row into the outputs {@code new_key.<layer>.<row>}. The runtime
     * binds each to its row's next slots of the cache that {@code past_key.<layer>} reads, so the split writes
     * them straight into the cache before this layer's attention reads it: every key sits at its absolute
     * position, whichever pass computed it. The last piece holds the pass's spare token (see {@link Signature});
     * the returned sum over it (0 without one) lets later nodes depend on the writes.
     */
    private String writeToCache(String name, String flat, int layer, boolean keys, Rows rows) {
        String[] outs = new String[Signature.ROWS + 1];
        for (int r = 0; r < Signature.ROWS; r++) {
            outs[r] = keys ? Signature.newKey(layer, r) : Signature.newValue(layer, r);
            g.output(outs[r], FLOAT, 1, keys ? "row_keys_" + r : "row_values_" + r, c.kvDim());
        }
        outs[Signature.ROWS] = name + ".spare";
        g.node("", "Split", outs, new String[] {flat, rows.rowTokens()}, Attr.of("axis", 1L));
        return g.op("ReduceSum", name + ".spare_sum", new String[] {outs[Signature.ROWS]}, Attr.of("keepdims", 0L));
    }

    /**
     * Attention of the pass's new tokens over their rows' cache, in which this layer's new keys and values already
     * sit at their positions: one score matmul, one softmax, one context matmul, all over the cache in place.
     * Each token's sums run over the same slots in the same order whatever else shares the pass, and whether
     * its predecessors were cached earlier or arrived in the same window: a row's result does not depend on how
     * its tokens were grouped into passes (bit for bit in float32).
     *
     * <p>Multi-query, as StarCoder computes it: one key/value head shared by all query heads, so the queries of
     * every head and token form one matrix {@code [b, window*heads, d]} against the keys {@code [b, capacity, d]}:
     * no transposes. Multi-head: {@code [b, heads, window, d]} against each head's keys, which the cache (token
     * major) has to be transposed for.
     */
    private String attention(String at, int layer, String q, String window, Rows rows) {
        int d = c.headDim();
        String padded = g.op("Gather", at + "q.padded", new String[] {                                  // [b, s, embd]
                g.op("Reshape", at + "q.flat", new String[] {q, g.constLongs(at + "q.flat_shape", -1, c.nEmbd())}),
                window});
        String queries;
        String keys;
        String values;
        if (c.multiQuery()) {
            String rowsShape = g.constLongs(at + "mqa.rows", 0, -1, d);
            queries = g.op("Reshape", at + "q.rows", new String[] {padded, rowsShape});                 // [b, s*heads, d]
            keys = Signature.pastKey(layer);                                                             // [b, capacity, d]
            values = Signature.pastValue(layer);
        } else {
            queries = heads(at + "q", padded, null);                                                     // [b, heads, s, d]
            // The reshape takes its shape from the queries: a data dependency that keeps the transposes (which
            // copy) after this layer's new keys and values have been written into the cache.
            keys = heads(at + "k", Signature.pastKey(layer), padded);                                    // [b, heads, capacity, d]
            values = heads(at + "v", Signature.pastValue(layer), padded);
        }
        String scores = g.msOp("FusedMatMul", at + "scores", new String[] {queries, keys},
                Attr.of("transB", 1L), Attr.of("alpha", (float) (1 / Math.sqrt(d))));
        String probs = g.op("Softmax", at + "probs", new String[] {
                g.op("Add", at + "scores.masked", new String[] {scores, rows.bias()})}, Attr.of("axis", -1L));
        String context = g.op("MatMul", at + "context", new String[] {probs, values});
        if (!c.multiQuery()) {
            context = g.op("Transpose", at + "context.tokens", new String[] {context}, Attr.of("perm", 0, 2, 1, 3));
        }
        String perToken = g.op("Reshape", at + "context.padded", new String[] {context,
                g.constLongs(at + "context.padded_shape", -1, c.nEmbd())});                     // [b*s, embd]
        return g.op("Reshape", at + "context.merged", new String[] {
                g.op("Gather", at + "context.ragged", new String[] {perToken, rows.tokens()}),
                g.constLongs(at + "context.merged_shape", 1, -1, c.nEmbd())});                  // [1, tokens, embd]
    }

    /**
     * {@code [b, t, heads*d]} to {@code [b, heads, t, d]}. With {@code after}, the batch size is taken from that
     * tensor's shape, so the reshape (and the transpose that copies) cannot run before it exists.
     */
    private String heads(String name, String x, String after) {
        String shape = after == null ? g.constLongs(name + ".heads_shape", 0, 0, c.nHead(), c.headDim())
                : g.op("Concat", name + ".heads_shape", new String[] {
                        g.op("Shape", name + ".batch", new String[] {after}, Attr.of("start", 0L), Attr.of("end", 1L)),
                        g.constLongs(name + ".heads_rest", -1, c.nHead(), c.headDim())}, Attr.of("axis", 0L));
        String split = g.op("Reshape", name + ".split", new String[] {x, shape});
        return g.op("Transpose", name + ".heads", new String[] {split}, Attr.of("perm", 0, 2, 1, 3));
    }

    private String gelu(String name, String x, String bias) {
        return c.activation() == Activation.GELU
                ? g.msOp("BiasGelu", name, new String[] {x, bias})
                : g.msOp("FastGelu", name, new String[] {x, bias});
    }

    /**
     * LayerNorm of {@code h + pending} (or of {@code h} when nothing is pending), returning the normalised
     * activations and the new residual stream. The add and the norm are one fused SkipLayerNormalization, which
     * also hands back the sum. When the linear layer the norm feeds is smoothed, 1/s is folded into its gain and
     * shift, so the smoothed activations cost nothing at run time.
     */
    private String[] norm(String hfName, String name, String h, String pending, String feeds) {
        float[] gain = weights.read(hfName + ".weight", c.nEmbd());
        float[] shift = weights.read(hfName + ".bias", c.nEmbd());
        float[] s = feeds == null ? null : options.smoothing().scales(feeds);
        if (s != null) {
            for (int i = 0; i < gain.length; i++) {
                gain[i] /= s[i];
                shift[i] /= s[i];
            }
        }
        String gainName = g.weight(name + ".weight", gain, c.nEmbd());
        String shiftName = g.weight(name + ".bias", shift, c.nEmbd());
        if (pending == null) {
            return new String[] {g.op("LayerNormalization", name, new String[] {h, gainName, shiftName},
                    Attr.of("axis", -1L), Attr.of("epsilon", (float) c.layerNormEpsilon())), h};
        }
        String[] outs = g.node(GraphBuilder.MS_DOMAIN, "SkipLayerNormalization",
                new String[] {name, "", "", name + ".residual"}, new String[] {h, pending, gainName, shiftName},
                Attr.of("epsilon", (float) c.layerNormEpsilon()));
        return new String[] {outs[0], outs[3]};
    }

    /**
     * The c_attn output rows in the order the graph splits them: all queries, then all keys, then all values.
     * Multi-query checkpoints store them so; Hugging Face's multi-head GPTBigCode interleaves them per head
     * ({@code [heads, 3, head_dim]}: q, k, v of head 0, then of head 1, ...), so its rows are regrouped here.
     *
     * @return for each graph row, the checkpoint row it comes from; null when they are the same
     */
    private int[] qkvRowOrder() {
        if (c.multiQuery()) {
            return null;
        }
        int d = c.headDim();
        int[] order = new int[3 * c.nEmbd()];
        for (int part = 0; part < 3; part++) {
            for (int head = 0; head < c.nHead(); head++) {
                for (int i = 0; i < d; i++) {
                    order[part * c.nEmbd() + head * d + i] = head * 3 * d + part * d + i;
                }
            }
        }
        return order;
    }

    /**
     * A linear layer read from the checkpoint and written by the scheme. Smoothing scales the weight's input
     * columns by s; the 1/s on the activation side is either already in the LayerNorm ({@code afterNorm}
     * layers) or an explicit Mul here.
     *
     * @param rowOrder output row i of the layer is checkpoint row rowOrder[i] (null: as stored)
     */
    private String linear(String x, String name, String hfName, int out, int in, boolean withBias, boolean afterNorm,
                          int[] rowOrder) {
        if (options.exposeLinearInputs()) {
            g.op("Identity", Signature.linearInput(name), new String[] {x});
            g.output(Signature.linearInput(name), FLOAT, 1, "tokens", in);
        }
        float[] w = weights.read(hfName + ".weight", out, in);
        float[] b = withBias ? weights.read(hfName + ".bias", out) : null;
        if (rowOrder != null) {
            w = reorderRows(w, rowOrder, in);
            b = b == null ? null : reorderRows(b, rowOrder, 1);
        }
        float[] s = options.smoothing().scales(name);
        if (s != null) {
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    w[o * in + i] *= s[i];
                }
            }
            if (!afterNorm) {
                float[] inverse = new float[in];
                for (int i = 0; i < in; i++) {
                    inverse[i] = 1f / s[i];
                }
                x = g.op("Mul", name + ".smoothed", new String[] {x, g.weight(name + ".inverse_scales", inverse, in)});
            }
        }
        return options.scheme().linear(g, x, name, w, b, out, in);
    }

    private static float[] reorderRows(float[] m, int[] order, int rowLength) {
        float[] out = new float[m.length];
        for (int r = 0; r < order.length; r++) {
            System.arraycopy(m, order[r] * rowLength, out, r * rowLength, rowLength);
        }
        return out;
    }
}
