package dev.starspec.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The model's tokenizer: Hugging Face's Rust tokenizers through DJL, reading the same {@code tokenizer.json}
 * the model was trained with. No special tokens are added, nothing is truncated or padded: the ids are
 * exactly those of the text.
 */
public final class Tokenizer implements AutoCloseable {

    static {
        // DJL looks for updates and reports usage unless told not to; this job never talks to the network.
        System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer hf;

    private Tokenizer(HuggingFaceTokenizer hf) {
        this.hf = hf;
    }

    public static Tokenizer load(Path tokenizerJson) {
        try {
            return new Tokenizer(HuggingFaceTokenizer.builder()
                    .optTokenizerPath(tokenizerJson)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build());
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(tokenizerJson + ": cannot load tokenizer: " + e.getMessage(), e);
        }
    }

    public int[] encode(String text) {
        long[] ids = hf.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** The text of {@code ids[from..to)}; special tokens are kept as their text. */
    public String decode(int[] ids, int from, int to) {
        long[] slice = new long[to - from];
        for (int i = from; i < to; i++) {
            slice[i - from] = ids[i];
        }
        return hf.decode(slice, false);
    }

    public String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    @Override
    public void close() {
        hf.close();
    }

    /**
     * A hash of what decides the ids (vocabulary, merges, added tokens), ignoring formatting: two models can
     * share draft tokens only if their fingerprints agree.
     */
    public static String fingerprint(Path tokenizerJson) {
        try {
            JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            JsonNode model = root.path("model");
            digest.update(model.path("type").asText().getBytes(StandardCharsets.UTF_8));
            List<Map.Entry<String, JsonNode>> vocab = new ArrayList<>();
            model.path("vocab").fields().forEachRemaining(vocab::add);
            vocab.sort(Map.Entry.comparingByKey());
            for (Map.Entry<String, JsonNode> e : vocab) {
                digest.update((e.getKey() + '\u0000' + e.getValue().asLong() + '\n').getBytes(StandardCharsets.UTF_8));
            }
            for (JsonNode merge : model.path("merges")) {
                // Merges are either "a b" strings or ["a", "b"] pairs depending on the tokenizers version.
                String text = merge.isArray() ? merge.get(0).asText() + ' ' + merge.get(1).asText() : merge.asText();
                digest.update((text + '\n').getBytes(StandardCharsets.UTF_8));
            }
            for (JsonNode added : root.path("added_tokens")) {
                digest.update((added.path("id").asLong() + "=" + added.path("content").asText() + '\n')
                        .getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(tokenizerJson + ": cannot read tokenizer: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
