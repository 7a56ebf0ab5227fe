package dev.starspec.udfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.Manifest;
import dev.starspec.engine.graph.Signature;
import dev.starspec.engine.testing.TestArtifacts;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model folder behind a URL is copied to the node once, through Hadoop's FileSystem, and opens as an artifact. */
class ArtifactFetcherTest {

    @Test
    void fetchesOnceIntoTheNodeCache(@TempDir Path cache) throws IOException {
        Artifact source = TestArtifacts.tinyDraft();
        URI uri = source.dir().toUri();
        Path first = ArtifactFetcher.fetch(uri, uri.toString(), cache, new Configuration());
        assertTrue(first.startsWith(cache.resolve("remote")), first.toString());
        Artifact copy = Artifact.open(first);
        assertEquals(source.manifest().files(), copy.manifest().files());

        long stamp = Files.getLastModifiedTime(first.resolve(Artifact.WEIGHTS)).toMillis();
        Path second = ArtifactFetcher.fetch(uri, uri.toString(), cache, new Configuration());
        assertEquals(first, second);
        assertEquals(stamp, Files.getLastModifiedTime(second.resolve(Artifact.WEIGHTS)).toMillis(), "not copied again");
        try (Stream<Path> s = Files.list(cache.resolve("remote"))) {
            assertEquals(1, s.count(), "no partial copies left behind");
        }
    }

    @Test
    void aFolderThatIsNoModelIsAClearError(@TempDir Path tmp) throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("nothing-here"));
        Exception e = assertThrows(RuntimeException.class,
                () -> ArtifactFetcher.fetch(empty.toUri(), empty.toUri().toString(), tmp.resolve("cache"), new Configuration()));
        assertTrue(e.getMessage().contains("nothing-here") && e.getMessage().contains("manifest.json"), e.getMessage());
    }

    @Test
    void anArtifactOfAnotherSignatureIsRefusedBeforeItsWeightsAreCopied(@TempDir Path tmp) throws IOException {
        Path old = Files.createDirectories(tmp.resolve("old-artifact"));
        for (String f : List.of(Manifest.FILE, Artifact.MODEL, Artifact.WEIGHTS, Artifact.TOKENIZER)) {
            Files.copy(TestArtifacts.tinyDraft().dir().resolve(f), old.resolve(f));
        }
        ObjectNode manifest = (ObjectNode) new ObjectMapper().readTree(old.resolve(Manifest.FILE).toFile());
        manifest.put("signature", Signature.VERSION - 1);
        Files.writeString(old.resolve(Manifest.FILE), manifest.toString());
        Path cache = tmp.resolve("cache");
        Exception e = assertThrows(RuntimeException.class,
                () -> ArtifactFetcher.fetch(old.toUri(), old.toUri().toString(), cache, new Configuration()));
        assertTrue(e.getMessage().contains("old-artifact") && e.getMessage().contains("cannot be used by this runtime")
                && e.getMessage().contains("signature"), e.getMessage());
        try (Stream<Path> s = Files.walk(cache)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().equals(Artifact.WEIGHTS)).toList(),
                    "the weights were not copied");
        }
    }

    @Test
    void plainPathsAndFileUrlsAreUsedInPlace(@TempDir Path tmp) {
        assertEquals(tmp, ArtifactFetcher.localFolder(tmp.toString(), tmp.resolve("cache"), new Configuration()));
        assertEquals(tmp, ArtifactFetcher.localFolder(tmp.toUri().toString(), tmp.resolve("cache"), new Configuration()));
    }
}
