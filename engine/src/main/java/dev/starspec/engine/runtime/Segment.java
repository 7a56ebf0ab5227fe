package dev.starspec.engine.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.Signature;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * One span of a model's graph ({@link GptBigCodeGraph.Span}: usually one block) loaded on its own and run over one
 * whole sequence at a time from an empty cache. Conversion streams calibration and held-out text through a model
 * span by span with these, so that only one block's weights are loaded at once; the sequences' residual streams
 * ({@link Stream}) wait between spans in accounted off-heap memory.
 *
 * <p>The passes are bound as {@link Batch} binds a prompt's: one row, its keys and values written in place into
 * the span's cache before its attention reads them, and, for quantized graphs, an even number of tokens (a spare
 * one when needed) so that every row takes the same kernel path as in a whole-model pass.
 */
public final class Segment implements AutoCloseable {

    private final OrtEnvironment env;
    private final OrtSession session;
    private final ModelConfig config;
    private final GptBigCodeGraph.Span span;
    private final boolean pairsTokens;
    private final BufferAllocator memory;

    private Segment(OrtEnvironment env, OrtSession session, ModelConfig config, GptBigCodeGraph.Span span,
                    boolean pairsTokens, BufferAllocator memory) {
        this.env = env;
        this.session = session;
        this.config = config;
        this.span = span;
        this.pairsTokens = pairsTokens;
        this.memory = memory;
    }

    /**
     * @param pairsTokens whether the graph's linear layers are quantized (see {@link Model#pairsTokens})
     * @param memory where the passes' caches and I/O buffers come from
     */
    public static Segment load(Path onnx, ModelConfig config, GptBigCodeGraph.Span span, boolean pairsTokens,
                               RuntimeOptions options, BufferAllocator memory) {
        try (OrtSession.SessionOptions so = OrtRuntime.sessionOptions(options)) {
            OrtEnvironment env = OrtRuntime.environment(options);
            return new Segment(env, env.createSession(onnx.toString(), so), config, span, pairsTokens, memory);
        } catch (OrtException e) {
            throw new IllegalStateException(onnx + ": ONNX Runtime cannot load the span: " + e.getMessage(), e);
        }
    }

    /** One sequence's residual stream between spans ({@link Signature#HIDDEN}, {@link Signature#PENDING}). */
    public static final class Stream implements AutoCloseable {
        final int tokens;
        final ArrowBuf hidden;
        final ArrowBuf pending;

        /** Room for {@code tokens} tokens (and a spare) of width {@code embd}. */
        public Stream(BufferAllocator memory, int tokens, int embd) {
            this.tokens = tokens;
            long bytes = 4L * (tokens + 1) * embd;
            this.hidden = memory.buffer(bytes);
            this.pending = memory.buffer(bytes);
            hidden.setZero(0, bytes);
            pending.setZero(0, bytes);
        }

        public int tokens() {
            return tokens;
        }

        @Override
        public void close() {
            hidden.close();
            pending.close();
        }
    }

    /**
     * Runs one sequence through the span: its token ids when the span embeds, else the stream {@code in}; the
     * stream after the span goes to {@code out} when the span ends before the head. Returns the named outputs
     * (linear-layer inputs, logits: the logits of every token when the span ends with the head), one row per
     * token of the sequence.
     */
    public Map<String, float[]> run(int[] ids, Stream in, Stream out, Collection<String> outputNames) {
        int n = span.embeds() ? ids.length : in.tokens;
        int padded = pairsTokens && n % 2 == 1 ? n + 1 : n;
        int kv = config.kvDim();
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            Map<String, OnnxValue> pinned = new HashMap<>();
            if (span.embeds()) {
                LongBuffer tokens = longs(owned, padded);
                LongBuffer positions = longs(owned, padded);
                for (int t = 0; t < n; t++) {
                    tokens.put(t, ids[t]);
                    positions.put(t, t);
                }
                inputs.put(Signature.INPUT_IDS, tensor(owned, tokens, 1, padded));
                inputs.put(Signature.POSITION_IDS, tensor(owned, positions, 1, padded));
            } else {
                inputs.put(Signature.HIDDEN, tensor(owned, floats(in.hidden), 1, padded, config.nEmbd()));
                inputs.put(Signature.PENDING, tensor(owned, floats(in.pending), 1, padded, config.nEmbd()));
            }
            if (span.end() > span.first()) {
                LongBuffer window = longs(owned, n);
                LongBuffer tokenIndex = longs(owned, padded);
                LongBuffer rowTokens = longs(owned, Signature.ROWS + 1);
                for (int t = 0; t < n; t++) {
                    window.put(t, t);
                    tokenIndex.put(t, t);
                }
                rowTokens.put(0, n);
                rowTokens.put(Signature.ROWS, padded - n);
                inputs.put(Signature.WINDOW_INDEX, tensor(owned, window, 1, n));
                inputs.put(Signature.TOKEN_INDEX, tensor(owned, tokenIndex, padded));
                inputs.put(Signature.PAST_LENGTH, tensor(owned, longs(owned, 1), 1));
                inputs.put(Signature.ROW_TOKENS, tensor(owned, rowTokens, Signature.ROWS + 1));
                for (int l = span.first(); l < span.end(); l++) {
                    for (boolean keys : new boolean[] {true, false}) {
                        ArrowBuf cache = memory.buffer(4L * n * kv);
                        owned.add(cache);
                        FloatBuffer slots = floats(cache);
                        inputs.put(keys ? Signature.pastKey(l) : Signature.pastValue(l), tensor(owned, slots, 1, n, kv));
                        pinned.put(keys ? Signature.newKey(l, 0) : Signature.newValue(l, 0), tensor(owned, slots, 1, n, kv));
                    }
                }
            }
            int logitRows = 0;
            if (span.heads(config)) {
                logitRows = padded; // a quantized head pairs its rows as the body does
                LongBuffer wanted = longs(owned, logitRows);
                for (int t = 0; t < logitRows; t++) {
                    wanted.put(t, Math.min(t, n - 1));
                }
                inputs.put(Signature.LOGITS_INDEX, tensor(owned, wanted, logitRows));
            } else {
                pinned.put(Signature.HIDDEN_OUT, tensor(owned, floats(out.hidden), 1, padded, config.nEmbd()));
                pinned.put(Signature.PENDING_OUT, tensor(owned, floats(out.pending), 1, padded, config.nEmbd()));
            }
            Map<String, float[]> result = new LinkedHashMap<>();
            try (OrtSession.Result r = session.run(inputs, new LinkedHashSet<>(outputNames), pinned)) {
                for (String name : outputNames) {
                    FloatBuffer fb = ((OnnxTensor) r.get(name).orElseThrow()).getFloatBuffer();
                    int width = fb.remaining() / (name.equals(Signature.LOGITS) ? logitRows : padded);
                    float[] values = new float[n * width]; // the sequence's own rows: not the spare's
                    fb.get(values);
                    result.put(name, values);
                }
            }
            return result;
        } catch (OrtException e) {
            throw new IllegalStateException("span " + span + " failed: " + e.getMessage(), e);
        } finally {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (Exception ignored) {
                    // closing native tensors and buffers does not fail in practice
                }
            }
        }
    }

    private LongBuffer longs(List<AutoCloseable> owned, int n) {
        ArrowBuf b = memory.buffer(8L * Math.max(1, n));
        b.setZero(0, b.capacity());
        owned.add(b);
        return OffHeapMemory.view(b).asLongBuffer();
    }

    /** The buffer as floats; each tensor made from it takes as many as its shape needs. */
    private static FloatBuffer floats(ArrowBuf b) {
        return OffHeapMemory.view(b).asFloatBuffer();
    }

    private OnnxTensor tensor(List<AutoCloseable> owned, LongBuffer b, long... shape) throws OrtException {
        OnnxTensor t = OnnxTensor.createTensor(env, b.duplicate().position(0).limit(Math.toIntExact(product(shape))), shape);
        owned.add(t);
        return t;
    }

    private OnnxTensor tensor(List<AutoCloseable> owned, FloatBuffer b, long... shape) throws OrtException {
        OnnxTensor t = OnnxTensor.createTensor(env, b.duplicate().position(0).limit(Math.toIntExact(product(shape))), shape);
        owned.add(t);
        return t;
    }

    private static long product(long[] shape) {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return p;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing span " + span + ": " + e.getMessage(), e);
        }
    }
}
