package dev.starspec.udfs;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.ArtifactException;
import dev.starspec.engine.artifact.ArtifactWriter;
import dev.starspec.engine.artifact.Manifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;

/**
 * Brings a model folder given as a URL onto this node, once. Hadoop's FileSystem does the reading: executors
 * already carry the cluster's Hadoop configuration and credentials, so {@code hdfs:} and {@code s3a:} work as
 * they do for the job's input, and {@code file:} and {@code https:} come built in. (DJL's repository knows no
 * HDFS or S3A credentials; SparkFiles copies per executor, not per node, and only what was listed at submit.)
 *
 * <p>The copy lands in {@code <cache>/remote/<hash of URL, size and time>} through a temporary folder and a
 * rename, under a file lock, so several executors of one node fetch it once and never see half a copy.
 * A folder that cannot be listed (plain HTTPS) is fetched by the names an artifact or checkpoint has.
 */
final class ArtifactFetcher {

    private static final List<String> ARTIFACT_FILES =
            List.of("manifest.json", "model.onnx", "model.onnx.data", "tokenizer.json");

    private ArtifactFetcher() {}

    /** A local folder for {@code location}: itself when it is a path, else the node-local copy. */
    static Path localFolder(String location, Path cacheRoot, Configuration hadoop) {
        URI uri = URI.create(location.replace(" ", "%20"));
        if (uri.getScheme() == null || uri.getScheme().length() == 1) { // a plain path (or a Windows drive letter)
            return Path.of(location);
        }
        if (uri.getScheme().equals("file")) {
            return Path.of(uri);
        }
        return fetch(uri, location, cacheRoot, hadoop);
    }

    /** Copies the folder at {@code uri} (any Hadoop file system) into the node's cache, once. */
    static Path fetch(URI uri, String location, Path cacheRoot, Configuration hadoop) {
        try {
            org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(uri);
            FileSystem fs = remote.getFileSystem(hadoop);
            FileStatus probe = statusOfAny(fs, remote);
            Path target = cacheRoot.resolve("remote").resolve(key(location, probe));
            Files.createDirectories(cacheRoot.resolve("locks"));
            try (FileChannel lockFile = FileChannel.open(cacheRoot.resolve("locks").resolve(target.getFileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                if (Files.isDirectory(target)) {
                    return target;
                }
                Path partial = target.resolveSibling(target.getFileName() + ".partial");
                ArtifactWriter.deleteTree(partial);
                Files.createDirectories(partial);
                copy(fs, remote, partial, hadoop, location);
                verify(partial, location);
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
                return target;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch model " + location + ": " + e.getMessage(), e);
        }
    }

    /**
     * An artifact is hashed against its manifest before it becomes visible in the cache (which records it as
     * verified): a copy that does not match is deleted, so the next attempt fetches again rather than reusing it.
     */
    private static void verify(Path partial, String location) throws IOException {
        if (!Files.isRegularFile(partial.resolve("manifest.json"))) {
            return; // a checkpoint: converted, and the artifact made from it checked, on first use
        }
        try {
            Artifact.open(partial);
        } catch (ArtifactException e) {
            ArtifactWriter.deleteTree(partial);
            throw new ArtifactException(location, "the copy fetched from here does not match its manifest ("
                    + e.getMessage() + "); if fetching again gives the same, the source itself is damaged: re-convert it", e);
        }
    }

    private static FileStatus statusOfAny(FileSystem fs, org.apache.hadoop.fs.Path remote) throws IOException {
        for (String name : List.of("manifest.json", "config.json")) {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(remote, name);
            if (fs.exists(p)) {
                return fs.getFileStatus(p);
            }
        }
        throw new IOException(remote + " has neither manifest.json (artifact) nor config.json (checkpoint)");
    }

    /**
     * Copies the folder's files; an artifact's manifest first, so that one this runtime cannot use (another format
     * or graph signature: fetching again would not help) fails before its weights are copied, on every attempt.
     */
    private static void copy(FileSystem fs, org.apache.hadoop.fs.Path remote, Path local, Configuration hadoop,
                             String location) throws IOException {
        org.apache.hadoop.fs.Path manifest = new org.apache.hadoop.fs.Path(remote, Manifest.FILE);
        if (fs.exists(manifest)) {
            FileUtil.copy(fs, manifest, local.resolve(Manifest.FILE).toFile(), false, hadoop);
            try {
                Artifact.compatibleManifest(local.resolve(Manifest.FILE));
            } catch (ArtifactException e) {
                ArtifactWriter.deleteTree(local);
                throw new ArtifactException(location, "cannot be used by this runtime (" + e.getMessage() + ")", e);
            }
        }
        FileStatus[] listing;
        try {
            listing = fs.listStatus(remote);
        } catch (UnsupportedOperationException | IOException notListable) {
            listing = null;
        }
        if (listing != null) {
            for (FileStatus f : listing) {
                if (f.isFile() && !f.getPath().getName().equals(Manifest.FILE)) {
                    FileUtil.copy(fs, f.getPath(), local.resolve(f.getPath().getName()).toFile(), false, hadoop);
                }
            }
            return;
        }
        for (String name : ARTIFACT_FILES) {
            if (Files.exists(local.resolve(name))) {
                continue;
            }
            FileUtil.copy(fs, new org.apache.hadoop.fs.Path(remote, name), local.resolve(name).toFile(), false, hadoop);
        }
    }

    private static String key(String location, FileStatus probe) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update((location + "\n" + probe.getLen() + "\n" + probe.getModificationTime()).getBytes(StandardCharsets.UTF_8));
            String name = location.replaceAll("/+$", "");
            name = name.substring(name.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9_.-]", "_");
            return name + "-" + HexFormat.of().formatHex(d.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
