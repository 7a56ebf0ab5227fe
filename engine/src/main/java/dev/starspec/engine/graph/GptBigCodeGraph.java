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
        for (int layer = 0; layer < c.nLayer(); layer++) {
            h = block(layer, h, bias);
        }

        String last = g.op("Slice", "final.rows", new String[] {
                h, logitsFrom, g.constLongs("final.rows.end", Long.MAX_VALUE), g.constLongs("final.rows.axis", 1)});
        String normed = layerNorm("transformer.ln_f", "final.ln", last, null);
        // HF stores no lm_head when it is tied to wte; a stored one (untied, or a saved copy) is used as is.
        boolean explicitHead = weights.contains("lm_head.weight");
        String headName = explicitHead ? "lm_head.weight" : "transformer.wte.weight";
        String logits = options.scheme().lmHead(g, normed, explicitHead ? null : wte,
                () -> weights.read(headName, c.vocabSize(), c.nEmbd()), c.vocabSize(), c.nEmbd());
        if (!logits.equals(Signature.LOGITS)) {
            g.op("Identity", Signature.LOGITS, new String[] {logits});
        }
        g.output(Signature.LOGITS, FLOAT, "batch", "rows", c.vocabSize());
    }

    /**
     * The additive mask shared by every layer, {@code [batch, 1, new, total]}: slot s is visible to new token
     * j when {@code s <= past + j} (causal) and {@code attention_mask[s] == 1}.
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
                allowed, g.constFloat("mask.open", 0f), g.constFloat("mask.closed", MASKED)});
        return g.op("Unsqueeze", "mask.bias", new String[] {bias, g.constLongs("mask.head_axis", 1)});
    }

    private String block(int layer, String h, String bias) {
        String hf = "transformer.h." + layer + ".";
        String at = "h." + layer + ".";
        int kv = c.kvDim();

        String cAttn = at + "attn.c_attn";
        String a = layerNorm(hf + "ln_1", at + "ln_1", h, cAttn);
        String qkv = linear(a, cAttn, hf + "attn.c_attn", c.nEmbd() + 2 * kv, c.nEmbd(), true, true);
        String[] qkvParts = g.node("", "Split", new String[] {at + "q", Signature.newKey(layer), Signature.newValue(layer)},
                new String[] {qkv, g.constLongs(at + "qkv.sizes", c.nEmbd(), kv, kv)}, Attr.of("axis", 2L));
        g.output(Signature.newKey(layer), FLOAT, "batch", "new", kv);
        g.output(Signature.newValue(layer), FLOAT, "batch", "new", kv);

        String pastK = g.input(Signature.pastKey(layer), FLOAT, "batch", "past", kv);
        String pastV = g.input(Signature.pastValue(layer), FLOAT, "batch", "past", kv);
        String keys = g.op("Concat", at + "keys", new String[] {pastK, qkvParts[1]}, Attr.of("axis", 1L));
        String values = g.op("Concat", at + "values", new String[] {pastV, qkvParts[2]}, Attr.of("axis", 1L));

        String attended = attention(at, qkvParts[0], keys, values, bias);
        h = g.op("Add", at + "attn.residual", new String[] {
                h, linear(attended, at + "attn.c_proj", hf + "attn.c_proj", c.nEmbd(), c.nEmbd(), true, false)});

        String cFc = at + "mlp.c_fc";
        String m = layerNorm(hf + "ln_2", at + "ln_2", h, cFc);
        m = linear(m, cFc, hf + "mlp.c_fc", c.nInner(), c.nEmbd(), false, true);
        m = gelu(at + "mlp.gelu", m, g.weight(cFc + ".bias", weights.read(hf + "mlp.c_fc.bias", c.nInner()), c.nInner()));
        m = linear(m, at + "mlp.c_proj", hf + "mlp.c_proj", c.nEmbd(), c.nInner(), true, false);
        return g.op("Add", at + "mlp.residual", new String[] {h, m});
    }

    /**
     * Scaled dot-product attention. q is {@code [b, n, heads*d]}; keys and values {@code [b, t, kvHeads*d]}.
     * With one key/value head (multi-query) the head axis of K and V is 1 and MatMul broadcasts it over
     * all query heads, so the cache stores each position's key once.
     */
    private String attention(String at, String q, String keys, String values, String bias) {
        int d = c.headDim();
        String qShape = g.constLongs(at + "q.shape", 0, 0, c.nHead(), d);
        String kvShape = g.constLongs(at + "kv.shape", 0, 0, c.kvHeads(), d);
        String q4 = g.op("Transpose", at + "q.heads", new String[] {
                g.op("Reshape", at + "q.split", new String[] {q, qShape})}, Attr.of("perm", 0, 2, 1, 3));
        String kT = g.op("Transpose", at + "k.heads", new String[] {
                g.op("Reshape", at + "k.split", new String[] {keys, kvShape})}, Attr.of("perm", 0, 2, 3, 1));
        String v4 = g.op("Transpose", at + "v.heads", new String[] {
                g.op("Reshape", at + "v.split", new String[] {values, kvShape})}, Attr.of("perm", 0, 2, 1, 3));
        String scores = g.op("MatMul", at + "scores", new String[] {
                g.op("Mul", at + "q.scaled", new String[] {q4, g.constFloat(at + "scale", (float) (1 / Math.sqrt(d)))}),
                kT});
        String probs = g.op("Softmax", at + "probs", new String[] {
                g.op("Add", at + "scores.masked", new String[] {scores, bias})}, Attr.of("axis", -1L));
        String out = g.op("MatMul", at + "context", new String[] {probs, v4});
        String merged = g.op("Transpose", at + "context.tokens", new String[] {out}, Attr.of("perm", 0, 2, 1, 3));
        return g.op("Reshape", at + "context.merged", new String[] {merged, g.constLongs(at + "merged.shape", 0, 0, c.nEmbd())});
    }

    private String gelu(String name, String x, String bias) {
        return c.activation() == Activation.GELU
                ? g.msOp("BiasGelu", name, new String[] {x, bias})
                : g.msOp("FastGelu", name, new String[] {x, bias});
    }

    /**
     * LayerNorm with the checkpoint's gain and shift; when the linear layer it feeds is smoothed, 1/s is folded
     * into both, so the smoothed activations cost nothing at run time.
     */
    private String layerNorm(String hfName, String name, String x, String feeds) {
        float[] gain = weights.read(hfName + ".weight", c.nEmbd());
        float[] shift = weights.read(hfName + ".bias", c.nEmbd());
        float[] s = feeds == null ? null : options.smoothing().scales(feeds);
        if (s != null) {
            for (int i = 0; i < gain.length; i++) {
                gain[i] /= s[i];
                shift[i] /= s[i];
            }
        }
        return g.op("LayerNormalization", name, new String[] {
                x, g.weight(name + ".weight", gain, c.nEmbd()), g.weight(name + ".bias", shift, c.nEmbd())},
                Attr.of("axis", -1L), Attr.of("epsilon", (float) c.layerNormEpsilon()));
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
