package dev.starspec.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.testing.RandomCheckpoint;
import dev.starspec.engine.testing.TestArtifacts;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each way a checkpoint can be broken fails at load with a message naming the file and the tensor. */
class MalformedCheckpointTest {

    @TempDir
    Path tmp;
    Path dir;
    ModelConfig config = RandomCheckpoint.config(32, 2, 2, 260, true, Activation.GELU_TANH);
    Map<String, float[]> weights;

    @BeforeEach
    void writeGoodCheckpoint() {
        dir = tmp.resolve("ckpt");
        weights = RandomCheckpoint.weights(config, 1, RandomCheckpoint.Options.f32());
        RandomCheckpoint.write(dir, config, weights, RandomCheckpoint.Options.f32());
    }

    private String convertError() {
        return assertThrows(CheckpointException.class,
                () -> TestArtifacts.convert(dir, tmp.resolve("artifact"))).getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "message should mention '" + p + "': " + message);
        }
    }

    @Test
    void goodCheckpointConverts() {
        assertEquals("fp32", TestArtifacts.convert(dir, tmp.resolve("artifact")).manifest().quantization().scheme());
    }

    @Test
    void missingTensor() throws IOException {
        weights.remove("transformer.h.1.mlp.c_fc.weight");
        RandomCheckpoint.writeSafetensors(dir.resolve("model.safetensors"), config, weights,
                weights.keySet().stream().toList(), DType.F32);
        assertMentions(convertError(), "model.safetensors", "missing tensor transformer.h.1.mlp.c_fc.weight");
    }

    @Test
    void wrongShape() throws IOException {
        ObjectNode c = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        c.put("n_inner", 48);
        Files.writeString(dir.resolve("config.json"), c.toString());
        assertMentions(convertError(), "model.safetensors", "transformer.h.0.mlp.c_fc.weight", "[64, 32]", "[48, 32]");
    }

    @Test
    void truncatedFile() throws IOException {
        Path f = dir.resolve("model.safetensors");
        long size = Files.size(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(size - 100);
        }
        // The last tensor written (ln_f.bias) is the one cut short.
        assertMentions(convertError(), "model.safetensors", "truncated", "transformer.ln_f.bias");
    }

    @Test
    void unknownDtype() throws IOException {
        rewriteHeader(dir.resolve("model.safetensors"), "transformer.wpe.weight", "F64");
        assertMentions(convertError(), "model.safetensors", "transformer.wpe.weight", "unsupported dtype F64");
    }

    @Test
    void missingShard() throws IOException {
        Path sharded = tmp.resolve("sharded");
        RandomCheckpoint.write(sharded, config, weights, RandomCheckpoint.Options.f32().sharded(2));
        Files.delete(sharded.resolve("model-00002-of-00002.safetensors"));
        dir = sharded;
        assertMentions(convertError(), "model-00002-of-00002.safetensors", "missing shard");
    }

    @Test
    void garbageInsteadOfSafetensors() throws IOException {
        Files.writeString(dir.resolve("model.safetensors"), "<html>404 Not Found</html>");
        assertMentions(convertError(), "model.safetensors", "not a safetensors file");
    }

    @Test
    void configWithoutEmbeddingWidth() throws IOException {
        ObjectNode c = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        c.remove("n_embd");
        Files.writeString(dir.resolve("config.json"), c.toString());
        assertMentions(convertError(), "config.json", "n_embd");
    }

    @Test
    void unsupportedActivation() throws IOException {
        ObjectNode c = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        c.put("activation_function", "relu");
        Files.writeString(dir.resolve("config.json"), c.toString());
        assertMentions(convertError(), "config.json", "relu");
    }

    @Test
    void halfPrecisionDecodesExactly() {
        short[] halves = {0x3c00, (short) 0xc000, 0x0001, 0x03ff, 0x7bff, 0x7c00, (short) 0x8000};
        float[] expected = {1f, -2f, 0x1p-24f, 1023 * 0x1p-24f, 65504f, Float.POSITIVE_INFINITY, -0f};
        for (int i = 0; i < halves.length; i++) {
            assertEquals(expected[i], DType.halfToFloat(halves[i]), "half 0x" + Integer.toHexString(halves[i] & 0xffff));
        }
        assertTrue(Float.isNaN(DType.halfToFloat((short) 0x7e00)));
    }

    /** Rewrites one entry's dtype in a safetensors header, keeping the data. */
    private static void rewriteHeader(Path file, String tensor, String dtype) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) b.getLong(0);
        ObjectMapper m = new ObjectMapper();
        ObjectNode header = (ObjectNode) m.readTree(new String(all, 8, headerLength, StandardCharsets.UTF_8));
        ((ObjectNode) header.get(tensor)).put("dtype", dtype);
        byte[] json = m.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + all.length - 8 - headerLength).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(all, 8 + headerLength, all.length - 8 - headerLength);
        Files.write(file, out.array());
    }
}
