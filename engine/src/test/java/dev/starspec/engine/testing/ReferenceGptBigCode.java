package dev.starspec.engine.testing;

import dev.starspec.engine.checkpoint.Activation;
import dev.starspec.engine.checkpoint.ModelConfig;
import java.util.Map;

/**
 * GPTBigCode's forward pass in plain double-precision Java, written from the model definition (Hugging Face
 * {@code modeling_gpt_bigcode.py}) and sharing no code with the engine: the oracle the ONNX graph is checked
 * against. Slow and simple on purpose: every position is recomputed from scratch.
 */
public final class ReferenceGptBigCode {

    private final ModelConfig c;
    private final Map<String, float[]> w;

    public ReferenceGptBigCode(ModelConfig c, Map<String, float[]> weights) {
        this.c = c;
        this.w = weights;
    }

    /** Logits at every position of {@code tokens}, {@code [n][vocab]}. */
    public double[][] logits(int[] tokens) {
        int n = tokens.length;
        int e = c.nEmbd();
        int d = c.headDim();
        int kv = c.kvDim();
        double[][] h = new double[n][e];
        float[] wte = w.get("transformer.wte.weight");
        float[] wpe = w.get("transformer.wpe.weight");
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < e; i++) {
                h[t][i] = (double) wte[tokens[t] * e + i] + wpe[t * e + i];
            }
        }
        for (int l = 0; l < c.nLayer(); l++) {
            String p = "transformer.h." + l + ".";
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] qkv = linear(layerNorm(h[t], p + "ln_1"), p + "attn.c_attn", e + 2 * kv, e);
                if (c.multiQuery()) {
                    q[t] = java.util.Arrays.copyOfRange(qkv, 0, e);
                    k[t] = java.util.Arrays.copyOfRange(qkv, e, e + kv);
                    v[t] = java.util.Arrays.copyOfRange(qkv, e + kv, e + 2 * kv);
                } else {
                    // Hugging Face's multi-head layout: per head, its query, key and value ([heads, 3, head_dim]).
                    q[t] = new double[e];
                    k[t] = new double[kv];
                    v[t] = new double[kv];
                    for (int head = 0; head < c.nHead(); head++) {
                        System.arraycopy(qkv, head * 3 * d, q[t], head * d, d);
                        System.arraycopy(qkv, head * 3 * d + d, k[t], head * d, d);
                        System.arraycopy(qkv, head * 3 * d + 2 * d, v[t], head * d, d);
                    }
                }
            }
            for (int t = 0; t < n; t++) {
                double[] context = new double[e];
                for (int head = 0; head < c.nHead(); head++) {
                    int kvHead = c.multiQuery() ? 0 : head;
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        double dot = 0;
                        for (int i = 0; i < d; i++) {
                            dot += q[t][head * d + i] * k[s][kvHead * d + i];
                        }
                        scores[s] = dot / Math.sqrt(d);
                        max = Math.max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) {
                        scores[s] = Math.exp(scores[s] - max);
                        sum += scores[s];
                    }
                    for (int s = 0; s <= t; s++) {
                        for (int i = 0; i < d; i++) {
                            context[head * d + i] += scores[s] / sum * v[s][kvHead * d + i];
                        }
                    }
                }
                double[] attn = linear(context, p + "attn.c_proj", e, e);
                for (int i = 0; i < e; i++) {
                    h[t][i] += attn[i];
                }
                double[] m = linear(layerNorm(h[t], p + "ln_2"), p + "mlp.c_fc", c.nInner(), e);
                for (int i = 0; i < m.length; i++) {
                    m[i] = gelu(m[i]);
                }
                double[] mlp = linear(m, p + "mlp.c_proj", e, c.nInner());
                for (int i = 0; i < e; i++) {
                    h[t][i] += mlp[i];
                }
            }
        }
        float[] head = w.containsKey("lm_head.weight") ? w.get("lm_head.weight") : wte;
        double[][] logits = new double[n][c.vocabSize()];
        for (int t = 0; t < n; t++) {
            double[] x = layerNorm(h[t], "transformer.ln_f");
            for (int token = 0; token < c.vocabSize(); token++) {
                double s = 0;
                for (int i = 0; i < e; i++) {
                    s += x[i] * head[token * e + i];
                }
                logits[t][token] = s;
            }
        }
        return logits;
    }

    private double[] layerNorm(double[] x, String name) {
        float[] gain = w.get(name + ".weight");
        float[] shift = w.get(name + ".bias");
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= x.length;
        double inv = 1 / Math.sqrt(var + c.layerNormEpsilon());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (x[i] - mean) * inv * gain[i] + shift[i];
        }
        return out;
    }

    /** {@code y = W x + b} with W stored {@code [out, in]} as PyTorch's Linear does. */
    private double[] linear(double[] x, String name, int out, int in) {
        float[] weight = w.get(name + ".weight");
        float[] bias = w.get(name + ".bias");
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = bias[o];
            for (int i = 0; i < in; i++) {
                s += weight[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    private double gelu(double x) {
        if (c.activation() == Activation.GELU) {
            return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
        }
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** erf to double precision: Taylor series near 0, continued fraction for erfc further out. */
    static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (a < 2.5) {
            double term = a;
            double sum = a;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double t = a;
            for (int n = 120; n >= 1; n--) {
                t = a + (n / 2.0) / t;
            }
            r = 1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * t);
        }
        return x < 0 ? -r : r;
    }
}
