package dev.starspec.engine.quant;

import ai.onnx.proto.OnnxMl;
import dev.starspec.engine.artifact.ArtifactWriter;
import dev.starspec.engine.checkpoint.ModelConfig;
import dev.starspec.engine.checkpoint.WeightSource;
import dev.starspec.engine.graph.ExternalData;
import dev.starspec.engine.graph.GptBigCodeGraph;
import dev.starspec.engine.runtime.RuntimeOptions;
import dev.starspec.engine.runtime.Segment;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A set of token sequences pushed through a model one block at a time: calibration and the quality report run
 * models whose float32 weights do not fit in memory this way. Each block is built by the graph builder as a
 * one-block span (the whole model's own nodes for it), loaded, run over every sequence and closed before the
 * next; between blocks each sequence's residual stream waits in accounted off-heap memory. Memory: one block's
 * weights (two for a side-by-side comparison) plus the streams, whatever the depth.
 */
public final class BlockStream implements AutoCloseable {

    private final ModelConfig config;
    private final List<int[]> sequences;
    private final BufferAllocator memory;
    private final Segment.Stream[] streams;

    public BlockStream(ModelConfig config, List<int[]> sequences, BufferAllocator memory) {
        this.config = config;
        this.sequences = List.copyOf(sequences);
        this.memory = memory;
        this.streams = new Segment.Stream[sequences.size()];
    }

    public int size() {
        return sequences.size();
    }

    /**
     * Block {@code layer} of the model {@code graph} describes, built into a fresh folder under {@code work} and
     * loaded; the folder goes when the segment closes.
     */
    public static Block load(WeightSource weights, GptBigCodeGraph.Options graph, int layer, Path work,
                             RuntimeOptions runtime, BufferAllocator memory) {
        try {
            Files.createDirectories(work);
            Path dir = Files.createTempDirectory(work, "block-" + layer + "-");
            GptBigCodeGraph.Span span = GptBigCodeGraph.Span.block(layer);
            OnnxMl.ModelProto model;
            try (ExternalData data = new ExternalData(dir.resolve("model.onnx.data"))) {
                model = GptBigCodeGraph.build(weights, graph, span, data, "starspec-block", Map.of());
            }
            Path onnx = dir.resolve("model.onnx");
            try (OutputStream os = Files.newOutputStream(onnx)) {
                model.writeTo(os);
            }
            boolean pairs = !graph.scheme().name().equals("fp32");
            return new Block(Segment.load(onnx, weights.config(), span, pairs, runtime, memory), dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build block " + layer + " under " + work + ": " + e.getMessage(), e);
        }
    }

    /** A loaded block and the folder its graph sits in. */
    public record Block(Segment segment, Path dir) implements AutoCloseable {
        @Override
        public void close() {
            segment.close();
            try {
                ArtifactWriter.deleteTree(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove " + dir, e);
            }
        }
    }

    /**
     * Runs sequence {@code i} through {@code block} (the next block of this stream's model) and moves its stream
     * past it; returns the named outputs, one row per token.
     */
    public Map<String, float[]> step(Block block, int i, Collection<String> outputs, boolean last) {
        Segment.Stream in = streams[i];
        Segment.Stream out = last ? null : new Segment.Stream(memory, sequences.get(i).length, config.nEmbd());
        try {
            Map<String, float[]> result = block.segment().run(sequences.get(i), in, out, outputs);
            if (in != null) {
                in.close();
            }
            streams[i] = out;
            out = null;
            return result;
        } finally {
            if (out != null) {
                out.close();
            }
        }
    }

    /** Token sequences of texts, each cut to the model's context; empty ones left out. */
    public static List<int[]> sequences(List<String> texts, java.util.function.Function<String, int[]> encode,
                                        int context, int minimum) {
        List<int[]> out = new ArrayList<>();
        for (String t : texts) {
            int[] ids = encode.apply(t);
            if (ids.length > context) {
                ids = java.util.Arrays.copyOf(ids, context);
            }
            if (ids.length >= minimum) {
                out.add(ids);
            }
        }
        return out;
    }

    @Override
    public void close() {
        for (int i = 0; i < streams.length; i++) {
            if (streams[i] != null) {
                streams[i].close();
                streams[i] = null;
            }
        }
    }
}
