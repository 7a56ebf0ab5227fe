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
 * h = wte[input_ids] + wpe[position_ids]
 * for each block:
 *     q, k, v = split(ln_1(h) W_attn^T + b)       k, v: one head shared by all query heads (multi-query),
 *     K, V = past ++ k, past ++ v                   or one per query head (multi-head)
 *     h += softmax(q K^T / sqrt(d) + causal mask) V  W_proj^T + b
 *     h += gelu(ln_2(h) W_fc^T + b) W_mlp_proj^T + b
 * logits = ln_f(h[logits_from:]) wte^T               (lm_head tied to the token embedding)
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
        GraphBuilder g = new GraphBuilder(data);
        new GptBigCodeGraph(g, weights, options).forward();
        return g.build(producerVersion, metadata);
    }

    private void forward() {
        String ids = g.input(Signature.INPUT_IDS, INT64, "batch", "new");
        String positions = g.input(Signature.POSITION_IDS, INT64, "batch", "new");
        String mask = g.input(Signature.ATTENTION_MASK, INT64, "batch", "total");
        String logitsFrom = g.input(Signature.LOGITS_FROM, INT64, 1);

        String wte = g.weight("wte", weights.read("transformer.wte.weight", c.vocabSize(), c.nEmbd()),
                c.vocabSize(), c.nEmbd());
        String wpe = g.weight("wpe", weights.read("transformer.wpe.weight", c.nPositions(), c.nEmbd()),
                c.nPositions(), c.nEmbd());
        String h = g.op("Add", "embed", new String[] {
                g.op("Gather", "embed.tokens", new String[] {wte, ids}),
                g.op("Gather", "embed.positions", new String[] {wpe, positions})});

        String bias = attentionBias(ids, mask);
        // The residual stream: each block's output is added to h by the next LayerNorm (a fused
        // SkipLayerNormalization that also returns the sum), so `pending` is what has yet to be added.
        String pending = null;
        for (int layer = 0; layer < c.nLayer(); layer++) {
            String[] r = block(layer, h, pending, bias);
            h = r[0];
            pending = r[1];
        }
        String normed = norm("transformer.ln_f", "final.ln", h, pending, null)[0];
        String last = g.op("Slice", "final.rows", new String[] {
                normed, logitsFrom, g.constLongs("final.rows.end", Long.MAX_VALUE), g.constLongs("final.rows.axis", 1)});
        // HF stores no lm_head when it is tied to wte; a stored one (untied, or a saved copy) is used as is.
        boolean explicitHead = weights.contains("lm_head.weight");
        String headName = explicitHead ? "lm_head.weight" : "transformer.wte.weight";
        String logits = options.scheme().lmHead(g, last, explicitHead ? null : wte,
                () -> weights.read(headName, c.vocabSize(), c.nEmbd()), c.vocabSize(), c.nEmbd());
        if (!logits.equals(Signature.LOGITS)) {
            g.op("Identity", Signature.LOGITS, new String[] {logits});
        }
        g.output(Signature.LOGITS, FLOAT, "batch", "rows", c.vocabSize());
        g.op("ArgMax", Signature.NEXT_TOKEN, new String[] {Signature.LOGITS}, Attr.of("axis", -1L), Attr.of("keepdims", 0L));
        g.output(Signature.NEXT_TOKEN, INT64, "batch", "rows");
        g.op("ReduceMax", Signature.NEXT_TOKEN_PROB, new String[] {
                g.op("Softmax", "final.probs", new String[] {Signature.LOGITS}, Attr.of("axis", -1L))},
                Attr.of("axes", new long[] {-1}), Attr.of("keepdims", 0L));
        g.output(Signature.NEXT_TOKEN_PROB, FLOAT, "batch", "rows");
    }

    /**
     * The additive mask shared by every layer: slot s is visible to new token j when {@code s <= past + j}
     * (causal) and {@code attention_mask[s] == 1}. Laid out as the attention's scores are: {@code [b, new*heads,
     * total]} for multi-query, {@code [b, 1, new, total]} for multi-head.
     */
    private String attentionBias(String ids, String mask) {
        String total = g.op("Shape", "mask.total", new String[] {mask}, Attr.of("start", 1L), Attr.of("end", 2L));
        String fresh = g.op("Shape", "mask.new", new String[] {ids}, Attr.of("start", 1L), Attr.of("end", 2L));
        String past = g.op("Sub", "mask.past", new String[] {total, fresh});
        String scalar = g.constLongs("mask.scalar_axis", 0);
        String totalScalar = g.op("Squeeze", "mask.total_scalar", new String[] {total, scalar});
        String pastScalar = g.op("Squeeze", "mask.past_scalar", new String[] {past, scalar});
        String one = g.constLongs("mask.one", new long[] {1});
        String zero = g.constLongs("mask.zero", new long[] {0});
        String querySlots = g.op("Range", "mask.query_slots", new String[] {pastScalar, totalScalar, one});
        String keySlots = g.op("Range", "mask.key_slots", new String[] {zero, totalScalar, one});
        String causal = g.op("LessOrEqual", "mask.causal", new String[] {
                g.op("Unsqueeze", "mask.key_row", new String[] {keySlots, g.constLongs("mask.axis0", 0)}),
                g.op("Unsqueeze", "mask.query_col", new String[] {querySlots, g.constLongs("mask.axis1", 1)})});
        String keep = g.op("Unsqueeze", "mask.keep", new String[] {
                g.op("Cast", "mask.bool", new String[] {mask}, Attr.of("to", (long) TensorProto.DataType.BOOL_VALUE)),
                g.constLongs("mask.axis1b", 1)});
        String allowed = g.op("And", "mask.allowed", new String[] {causal, keep});
        String bias = g.op("Where", "mask.bias3", new String[] {
                allowed, g.constFloat("mask.open", 0f), g.constFloat("mask.closed", MASKED)}); // [b, new, total]
        if (!c.multiQuery()) {
            return g.op("Unsqueeze", "mask.bias", new String[] {bias, g.constLongs("mask.head_axis", 1)});
        }
        // Each new token's row, repeated for its heads: [b, new, 1, total] -> [b, new, heads, total] -> [b, new*heads, total]
        String perHead = g.op("Expand", "mask.per_head", new String[] {
                g.op("Unsqueeze", "mask.bias4", new String[] {bias, g.constLongs("mask.head_axis", 2)}),
                g.constLongs("mask.heads", 1, 1, c.nHead(), 1)});
        String shape = g.op("Concat", "mask.shape", new String[] {g.constLongs("mask.keep_batch", 0, -1), total},
                Attr.of("axis", 0L));
        return g.op("Reshape", "mask.bias", new String[] {perHead, shape});
    }

    /**
     * One transformer block. {@code pending} is the previous block's MLP output, not yet added to {@code h}.
     * Returns the residual stream after attention and this block's MLP output (pending for the next norm).
     */
    private String[] block(int layer, String h, String pending, String bias) {
        String hf = "transformer.h." + layer + ".";
        String at = "h." + layer + ".";
        int kv = c.kvDim();

        String cAttn = at + "attn.c_attn";
        String[] n1 = norm(hf + "ln_1", at + "ln_1", h, pending, cAttn);
        h = n1[1];
        String qkv = linear(n1[0], cAttn, hf + "attn.c_attn", c.nEmbd() + 2 * kv, c.nEmbd(), true, true);
        String[] qkvParts = g.node("", "Split", new String[] {at + "q", Signature.newKey(layer), Signature.newValue(layer)},
                new String[] {qkv, g.constLongs(at + "qkv.sizes", c.nEmbd(), kv, kv)}, Attr.of("axis", 2L));
        g.output(Signature.newKey(layer), FLOAT, "batch", "new", kv);
        g.output(Signature.newValue(layer), FLOAT, "batch", "new", kv);

        String pastK = g.input(Signature.pastKey(layer), FLOAT, "batch", "past", kv);
        String pastV = g.input(Signature.pastValue(layer), FLOAT, "batch", "past", kv);
        String keys = g.op("Concat", at + "keys", new String[] {pastK, qkvParts[1]}, Attr.of("axis", 1L));
        String values = g.op("Concat", at + "values", new String[] {pastV, qkvParts[2]}, Attr.of("axis", 1L));

        String attended = c.multiQuery()
                ? multiQueryAttention(at, qkvParts[0], keys, values, bias)
                : multiHeadAttention(at, qkvParts[0], keys, values, bias);
        String attnOut = linear(attended, at + "attn.c_proj", hf + "attn.c_proj", c.nEmbd(), c.nEmbd(), true, false);

        String cFc = at + "mlp.c_fc";
        String[] n2 = norm(hf + "ln_2", at + "ln_2", h, attnOut, cFc);
        String m = linear(n2[0], cFc, hf + "mlp.c_fc", c.nInner(), c.nEmbd(), false, true);
        m = gelu(at + "mlp.gelu", m, g.weight(cFc + ".bias", weights.read(hf + "mlp.c_fc.bias", c.nInner()), c.nInner()));
        m = linear(m, at + "mlp.c_proj", hf + "mlp.c_proj", c.nEmbd(), c.nInner(), true, false);
        return new String[] {n2[1], m};
    }

    /**
     * Multi-query attention as StarCoder computes it: one key/value head shared by all query heads, so the
     * queries of every head and token form one matrix {@code [b, new*heads, d]} against the keys
     * {@code [b, total, d]}: no transposes, one matmul for the scores and one for the context.
     */
    private String multiQueryAttention(String at, String q, String keys, String values, String bias) {
        int d = c.headDim();
        String queries = g.op("Reshape", at + "q.rows", new String[] {q, g.constLongs(at + "q.shape", 0, -1, d)});
        String scores = g.msOp("FusedMatMul", at + "scores", new String[] {queries, keys},
                Attr.of("transB", 1L), Attr.of("alpha", (float) (1 / Math.sqrt(d))));
        String probs = g.op("Softmax", at + "probs", new String[] {
                g.op("Add", at + "scores.masked", new String[] {scores, bias})}, Attr.of("axis", -1L));
        String context = g.op("MatMul", at + "context", new String[] {probs, values});
        return g.op("Reshape", at + "context.merged", new String[] {context, g.constLongs(at + "merged.shape", 0, -1, c.nEmbd())});
    }

    /** Multi-head attention: every query head has its own key/value head. */
    private String multiHeadAttention(String at, String q, String keys, String values, String bias) {
        int d = c.headDim();
        String split = g.constLongs(at + "heads.shape", 0, 0, c.nHead(), d);
        String q4 = heads(at + "q", q, split);
        String k4 = heads(at + "k", keys, split);
        String v4 = heads(at + "v", values, split);
        String scores = g.msOp("FusedMatMul", at + "scores", new String[] {q4, k4},
                Attr.of("transB", 1L), Attr.of("alpha", (float) (1 / Math.sqrt(d))));
        String probs = g.op("Softmax", at + "probs", new String[] {
                g.op("Add", at + "scores.masked", new String[] {scores, bias})}, Attr.of("axis", -1L));
        String context = g.op("MatMul", at + "context", new String[] {probs, v4});
        String merged = g.op("Transpose", at + "context.tokens", new String[] {context}, Attr.of("perm", 0, 2, 1, 3));
        return g.op("Reshape", at + "context.merged", new String[] {merged, g.constLongs(at + "merged.shape", 0, 0, c.nEmbd())});
    }

    /** {@code [b, t, heads*d]} to {@code [b, heads, t, d]}. */
    private String heads(String name, String x, String shape) {
        return g.op("Transpose", name + ".heads", new String[] {g.op("Reshape", name + ".split", new String[] {x, shape})},
                Attr.of("perm", 0, 2, 1, 3));
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
     * A linear layer read from the checkpoint and written by the scheme. Smoothing scales the weight's input
     * columns by s; the 1/s on the activation side is either already in the LayerNorm ({@code afterNorm}
     * layers) or an explicit Mul here.
     */
    private String linear(String x, String name, String hfName, int out, int in, boolean withBias, boolean afterNorm) {
        if (options.exposeLinearInputs()) {
            g.op("Identity", Signature.linearInput(name), new String[] {x});
            g.output(Signature.linearInput(name), FLOAT, "batch", "new", in);
        }
        float[] w = weights.read(hfName + ".weight", out, in);
        float[] b = withBias ? weights.read(hfName + ".bias", out) : null;
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
}
