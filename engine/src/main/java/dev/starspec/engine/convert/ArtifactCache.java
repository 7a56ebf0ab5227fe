package dev.starspec.engine.convert;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.ArtifactException;
import dev.starspec.engine.artifact.Manifest;
import dev.starspec.engine.artifact.NodeCache;
import dev.starspec.engine.artifact.QuantSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Artifacts converted on first use, kept in a per-node cache. {@code --model DIR} may name an artifact (used as
 * is) or a Hugging Face checkpoint (converted once, under a key of its files' paths, sizes and times, the
 * quantization and the tool version). A file lock makes concurrent processes on one node convert only once.
 */
public final class ArtifactCache {

    private final Path root;

    public ArtifactCache(Path root) {
        this.root = root;
    }

    /** In the node's cache folder ({@link NodeCache}). */
    public static ArtifactCache standard() {
        return new ArtifactCache(NodeCache.root());
    }

    public Path root() {
        return root;
    }

    public Artifact resolve(Path modelDir, QuantSpec quant, Consumer<String> log) {
        if (Files.isRegularFile(modelDir.resolve(Manifest.FILE))) {
            Artifact a = Artifact.open(modelDir);
            String scheme = a.manifest().quantization().scheme();
            if (quant != null && !quant.scheme().equals(scheme)) {
                throw new ArtifactException(modelDir, "is a " + scheme + " artifact, not " + quant.scheme()
                        + "; convert the checkpoint instead, or drop the quantization option");
            }
            return a;
        }
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new ArtifactException(modelDir, "neither an artifact (manifest.json) nor a checkpoint (config.json)");
        }
        QuantSpec q = quant == null ? QuantSpec.FP32 : quant;
        Path dir = root.resolve("artifacts").resolve(modelDir.toAbsolutePath().normalize().getFileName()
                + "-" + q.scheme() + "-" + key(modelDir, q));
        try {
            Files.createDirectories(root.resolve("locks"));
            try (FileChannel lockFile = FileChannel.open(root.resolve("locks").resolve(dir.getFileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                if (Files.isRegularFile(dir.resolve(Manifest.FILE))) {
                    try {
                        return Artifact.open(dir);
                    } catch (ArtifactException damaged) {
                        log.accept("cached artifact is damaged (" + damaged.getMessage() + "); converting again");
                    }
                }
                log.accept("converting " + modelDir + " to " + q.scheme() + " (once) into " + dir);
                return Converter.convert(Converter.Source.checkpoint(modelDir), q, dir, log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("artifact cache " + root + ": " + e.getMessage(), e);
        }
    }

    private static String key(Path checkpoint, QuantSpec q) {
        try (Stream<Path> files = Files.list(checkpoint)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update((Manifest.TOOL_VERSION + "\n" + q.key() + "\n" + checkpoint.toAbsolutePath().normalize() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            List<Path> sorted = files.filter(Files::isRegularFile).sorted().toList();
            for (Path f : sorted) {
                d.update((f.getFileName() + " " + Files.size(f) + " " + Files.getLastModifiedTime(f).toMillis() + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(d.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoint " + checkpoint, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
