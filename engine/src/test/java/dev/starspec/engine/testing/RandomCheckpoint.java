package dev.starspec.engine.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.checkpoint.DType;
import dev.starspec.engine.checkpoint.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Writes small random GPTBigCode checkpoints in Hugging Face form, written here independently of the reader
 * under test: config.json, safetensors in F32/F16/BF16, optionally sharded with an index, with or without an
 * explicit lm_head. The weights returned are exactly the stored values (after rounding to the dtype), so a
 * reference computation can use them directly.
 */
public final class RandomCheckpoint {

    public record Options(DType dtype, int shards, boolean explicitLmHead, float std) {
        public static Options f32() {
            return new Options(DType.F32, 1, false, 0.08f);
        }

        public Options with(DType d) {
            return new Options(d, shards, explicitLmHead, std);
        }

        public Options sharded(int n) {
            return new Options(dtype, n, explicitLmHead, std);
        }

        public Options withLmHead() {
            return new Options(dtype, shards, true, std);
        }
    }

    private RandomCheckpoint() {}

    public static ModelConfig config(int embd, int layers, int heads, int vocab, boolean multiQuery,
                                     dev.starspec.engine.checkpoint.Activation act) {
        return new ModelConfig(embd, layers, heads, 2 * embd, 64, vocab, multiQuery, act, 1e-5, 0, 0);
    }

    /** Random weights by Hugging Face name, as float32 values already rounded to {@code dtype}. */
    public static Map<String, float[]> weights(ModelConfig c, long seed, Options o) {
        Random r = new Random(seed);
        Map<String, float[]> w = new LinkedHashMap<>();
        int e = c.nEmbd();
        int kv = c.kvDim();
        w.put("transformer.wte.weight", gaussian(r, c.vocabSize() * e, o.std));
        w.put("transformer.wpe.weight", gaussian(r, c.nPositions() * e, o.std));
        for (int l = 0; l < c.nLayer(); l++) {
            String p = "transformer.h." + l + ".";
            w.put(p + "ln_1.weight", around(r, e, 1f, 0.2f));
            w.put(p + "ln_1.bias", gaussian(r, e, 0.1f));
            w.put(p + "attn.c_attn.weight", gaussian(r, (e + 2 * kv) * e, o.std * 2));
            w.put(p + "attn.c_attn.bias", gaussian(r, e + 2 * kv, o.std));
            w.put(p + "attn.c_proj.weight", gaussian(r, e * e, o.std));
            w.put(p + "attn.c_proj.bias", gaussian(r, e, o.std));
            w.put(p + "ln_2.weight", around(r, e, 1f, 0.2f));
            w.put(p + "ln_2.bias", gaussian(r, e, 0.1f));
            w.put(p + "mlp.c_fc.weight", gaussian(r, c.nInner() * e, o.std * 2));
            w.put(p + "mlp.c_fc.bias", gaussian(r, c.nInner(), o.std));
            w.put(p + "mlp.c_proj.weight", gaussian(r, e * c.nInner(), o.std));
            w.put(p + "mlp.c_proj.bias", gaussian(r, e, o.std));
        }
        w.put("transformer.ln_f.weight", around(r, e, 1f, 0.2f));
        w.put("transformer.ln_f.bias", gaussian(r, e, 0.1f));
        if (o.explicitLmHead) {
            w.put("lm_head.weight", gaussian(r, c.vocabSize() * e, o.std));
        }
        w.replaceAll((name, values) -> roundTo(o.dtype, values));
        return w;
    }

    public static long[] shapeOf(ModelConfig c, String name) {
        int e = c.nEmbd();
        int kv = c.kvDim();
        if (name.endsWith("wte.weight") || name.equals("lm_head.weight")) {
            return new long[] {c.vocabSize(), e};
        }
        if (name.endsWith("wpe.weight")) {
            return new long[] {c.nPositions(), e};
        }
        if (name.endsWith("c_attn.weight")) {
            return new long[] {e + 2 * kv, e};
        }
        if (name.endsWith("c_attn.bias")) {
            return new long[] {e + 2 * kv};
        }
        if (name.endsWith("attn.c_proj.weight")) {
            return new long[] {e, e};
        }
        if (name.endsWith("c_fc.weight")) {
            return new long[] {c.nInner(), e};
        }
        if (name.endsWith("c_fc.bias")) {
            return new long[] {c.nInner()};
        }
        if (name.endsWith("mlp.c_proj.weight")) {
            return new long[] {e, c.nInner()};
        }
        return new long[] {e};
    }

    /** Writes config.json, the weights and a tokenizer into {@code dir}. */
    public static void write(Path dir, ModelConfig c, Map<String, float[]> weights, Options o) {
        try {
            Files.createDirectories(dir);
            ObjectNode config = c.toHfJson();
            config.put("torch_dtype", o.dtype == DType.F32 ? "float32" : o.dtype == DType.F16 ? "float16" : "bfloat16");
            Files.writeString(dir.resolve("config.json"), config.toPrettyString());
            writeTokenizer(dir.resolve("tokenizer.json"), c.vocabSize());
            List<String> names = new ArrayList<>(weights.keySet());
            if (o.shards <= 1) {
                writeSafetensors(dir.resolve("model.safetensors"), c, weights, names, o.dtype);
                return;
            }
            ObjectNode index = new ObjectMapper().createObjectNode();
            index.putObject("metadata").put("total_size", 0);
            ObjectNode map = index.putObject("weight_map");
            int perShard = (names.size() + o.shards - 1) / o.shards;
            for (int s = 0; s < o.shards; s++) {
                String file = String.format("model-%05d-of-%05d.safetensors", s + 1, o.shards);
                List<String> part = names.subList(Math.min(names.size(), s * perShard), Math.min(names.size(), (s + 1) * perShard));
                writeSafetensors(dir.resolve(file), c, weights, part, o.dtype);
                part.forEach(n -> map.put(n, file));
            }
            Files.writeString(dir.resolve("model.safetensors.index.json"), index.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void writeSafetensors(Path file, ModelConfig c, Map<String, float[]> weights, List<String> names,
                                        DType dtype) throws IOException {
        Map<String, Object> header = new TreeMap<>();
        long offset = 0;
        for (String n : names) {
            long bytes = (long) weights.get(n).length * dtype.bytes();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", dtype.name());
            entry.put("shape", shapeOf(c, n));
            entry.put("data_offsets", new long[] {offset, offset + bytes});
            header.put(n, entry);
            offset += bytes;
        }
        header.put("__metadata__", Map.of("format", "pt"));
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (String n : names) {
            for (float v : weights.get(n)) {
                switch (dtype) {
                    case F32 -> out.putFloat(v);
                    case F16 -> out.putShort(floatToHalf(v));
                    case BF16 -> out.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                }
            }
        }
        Files.write(file, out.array());
    }

    /**
     * A byte-level BPE tokenizer without merges: every byte is one token (ids 1..256), id 0 is
     * {@code <|endoftext|>}. Enough to encode and decode any text with a small random model.
     */
    public static void writeTokenizer(Path file, int vocabSize) throws IOException {
        if (vocabSize == 49152) {
            Files.copy(ProjectFiles.starcoderTokenizer(), file);
            return;
        }
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("version", "1.0");
        root.putArray("added_tokens").addObject().put("id", 0).put("content", "<|endoftext|>")
                .put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false)
                .put("special", true);
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix")
                .putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        vocab.put("<|endoftext|>", 0);
        int[] byteChars = byteToUnicode();
        for (int b = 0; b < 256; b++) {
            vocab.put(new String(Character.toChars(byteChars[b])), b + 1);
        }
        model.putArray("merges");
        Files.writeString(file, m.writeValueAsString(root), StandardCharsets.UTF_8);
    }

    /** GPT-2's reversible byte-to-printable-character table. */
    static int[] byteToUnicode() {
        int[] table = new int[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            direct[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            direct[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            direct[b] = true;
        }
        int next = 256;
        for (int b = 0; b < 256; b++) {
            table[b] = direct[b] ? b : next++;
        }
        return table;
    }

    public static float[] roundTo(DType dtype, float[] values) {
        float[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> out[i];
                case F16 -> DType.halfToFloat(floatToHalf(out[i]));
                case BF16 -> Float.intBitsToFloat(Float.floatToRawIntBits(out[i]) & 0xffff0000);
            };
        }
        return out;
    }

    /** Round-to-nearest-even float to half for the value range of weights (no overflow handling needed). */
    static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        float abs = Math.abs(f);
        if (abs < 0x1p-24f / 2) {
            return (short) sign;
        }
        if (abs < 0x1p-14f) {
            // Subnormal: multiples of 2^-24, rounded to nearest even by Math.rint.
            return (short) (sign | (int) Math.rint(abs / 0x1p-24f));
        }
        int exponent = Math.getExponent(abs);
        float mantissa = abs / (float) Math.pow(2, exponent) - 1f; // in [0, 1)
        int m = (int) Math.rint(mantissa * 1024);
        if (m == 1024) {
            m = 0;
            exponent++;
        }
        return (short) (sign | ((exponent + 15) << 10) | m);
    }

    private static float[] gaussian(Random r, int n, float std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * std);
        }
        return a;
    }

    private static float[] around(Random r, int n, float mean, float spread) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = mean + (float) (r.nextGaussian() * spread);
        }
        return a;
    }
}
