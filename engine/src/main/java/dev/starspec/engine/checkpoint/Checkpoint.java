package dev.starspec.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face GPTBigCode checkpoint folder: {@code config.json}, {@code tokenizer.json}, and the weights in
 * {@code model.safetensors} or in shards listed by {@code model.safetensors.index.json}.
 */
public final class Checkpoint implements WeightSource {

    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path dir;
    private final ModelConfig config;
    private final Map<String, SafetensorsFile> fileOfTensor;
    private final List<SafetensorsFile> files;
    /** Checkpoints saved from the bare GPTBigCodeModel lack the "transformer." prefix; we accept both. */
    private final String prefix;

    private Checkpoint(Path dir, ModelConfig config, Map<String, SafetensorsFile> fileOfTensor,
                       List<SafetensorsFile> files, String prefix) {
        this.dir = dir;
        this.config = config;
        this.fileOfTensor = fileOfTensor;
        this.files = files;
        this.prefix = prefix;
    }

    public static Checkpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir, "not a checkpoint folder");
        }
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException(configFile, "missing config.json");
        }
        ModelConfig config = ModelConfig.read(configFile);
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> fileOfTensor = new LinkedHashMap<>();
        try {
            Path index = dir.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) {
                openShards(index, files, fileOfTensor);
            } else if (Files.isRegularFile(dir.resolve(SINGLE_FILE))) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve(SINGLE_FILE));
                files.add(f);
                f.entries().keySet().forEach(name -> fileOfTensor.put(name, f));
            } else {
                throw new CheckpointException(dir, "no " + SINGLE_FILE + " or " + INDEX_FILE);
            }
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
        String prefix = fileOfTensor.containsKey("wte.weight") && !fileOfTensor.containsKey("transformer.wte.weight")
                ? "" : "transformer.";
        return new Checkpoint(dir, config, fileOfTensor, files, prefix);
    }

    private static void openShards(Path index, List<SafetensorsFile> files, Map<String, SafetensorsFile> fileOfTensor) {
        JsonNode weightMap;
        try {
            weightMap = new ObjectMapper().readTree(Files.readString(index)).path("weight_map");
        } catch (IOException e) {
            throw new CheckpointException(index, "cannot read shard index: " + e.getMessage(), e);
        }
        if (!weightMap.isObject() || weightMap.isEmpty()) {
            throw new CheckpointException(index, "shard index has no weight_map");
        }
        Map<String, SafetensorsFile> byShard = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shardName = e.getValue().asText();
            Path shard = index.resolveSibling(shardName);
            if (!shard.normalize().startsWith(index.getParent().normalize())) {
                throw new CheckpointException(index, "shard " + shardName + " lies outside the checkpoint folder");
            }
            SafetensorsFile f = byShard.get(shardName);
            if (f == null) {
                if (!Files.isRegularFile(shard)) {
                    throw new CheckpointException(shard, "missing shard listed in " + INDEX_FILE
                            + " (for tensor " + e.getKey() + ")");
                }
                f = SafetensorsFile.open(shard);
                byShard.put(shardName, f);
                files.add(f);
            }
            if (!f.entries().containsKey(e.getKey())) {
                throw new CheckpointException(shard, "missing tensor " + e.getKey() + " (listed for it in " + INDEX_FILE + ")");
            }
            fileOfTensor.put(e.getKey(), f);
        }
    }

    public Path dir() {
        return dir;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public boolean contains(String name) {
        return fileOfTensor.containsKey(stored(name));
    }

    @Override
    public float[] read(String name, long... shape) {
        SafetensorsFile f = fileOfTensor.get(stored(name));
        if (f == null) {
            Path where = files.size() == 1 ? files.get(0).path() : dir.resolve(INDEX_FILE);
            throw new CheckpointException(where, "missing tensor " + name);
        }
        return f.read(stored(name), shape);
    }

    private String stored(String name) {
        return prefix.isEmpty() && name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
    }

    public Path tokenizerJson() {
        Path t = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(t)) {
            throw new CheckpointException(t, "missing tokenizer.json");
        }
        return t;
    }

    /** SHA-256 over config.json and every weight file, in a fixed order: the checkpoint's identity. */
    public String sha256() {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            List<Path> parts = new ArrayList<>();
            parts.add(dir.resolve("config.json"));
            files.forEach(f -> parts.add(f.path()));
            byte[] buffer = new byte[1 << 20];
            for (Path p : parts) {
                try (InputStream in = new DigestInputStream(Files.newInputStream(p), digest)) {
                    while (in.read(buffer) >= 0) {
                        // the digest sees every byte
                    }
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new CheckpointException(dir, "cannot hash checkpoint: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String description() {
        return "checkpoint " + dir.toAbsolutePath().normalize();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
