package dev.starspec.engine.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.artifact.ArtifactWriter;
import dev.starspec.engine.artifact.Manifest;
import dev.starspec.engine.checkpoint.Checkpoint;
import dev.starspec.engine.graph.FloatLinear;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.graph.LinearScheme;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Converting test checkpoints into artifacts. */
public final class TestArtifacts {

    private static final Map<String, Artifact> CONVERTED = new ConcurrentHashMap<>();

    private TestArtifacts() {}

    /**
     * The artifact of a checkpoint under a scheme, converted once per test JVM into target/test-artifacts
     * (fresh each run, so it always reflects the code under test) and shared by every test class.
     */
    public static synchronized Artifact cached(Path checkpointDir, LinearScheme scheme) {
        String key = checkpointDir.getFileName() + "-" + scheme.name();
        Artifact a = CONVERTED.get(key);
        if (a == null) {
            a = convert(checkpointDir, Path.of("target", "test-artifacts", key).toAbsolutePath(), scheme);
            CONVERTED.put(key, a);
        }
        return a;
    }

    public static Artifact tinyTarget() {
        return cached(ProjectFiles.tinyTarget(), new FloatLinear());
    }

    public static Artifact tinyDraft() {
        return cached(ProjectFiles.tinyDraft(), new FloatLinear());
    }

    public static Artifact convert(Path checkpointDir, Path out) {
        return convert(checkpointDir, out, new FloatLinear());
    }

    public static Artifact convert(Path checkpointDir, Path out, LinearScheme scheme) {
        try (Checkpoint ckpt = Checkpoint.open(checkpointDir)) {
            return ArtifactWriter.write(ckpt, GptBigCodeGraph.Options.of(scheme), ckpt.tokenizerJson(), out,
                    checkpointDir.getFileName().toString(),
                    new Manifest.Source("checkpoint", checkpointDir.toString(), null, null, null),
                    new ObjectMapper().createObjectNode());
        }
    }
}
