package dev.starspec.engine.checkpoint;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Random weights of a given shape, generated on demand: benchmarks need realistically sized models that cannot
 * be downloaded here, and writing a multi-gigabyte safetensors file first would only cost time and disk.
 *
 * <p>Values are uniform with standard deviation 0.02 (GPT-2's initialisation scale), LayerNorm gains 1 and
 * shifts 0. Each tensor's values depend only on (seed, tensor name), so the same seed always gives the same
 * model, however many threads generate it.
 */
public final class SyntheticWeights implements WeightSource {

    private static final float STD = 0.02f;
    private static final int CHUNK = 1 << 16;

    private final ModelConfig config;
    private final long seed;
    private final String shapeName;

    public SyntheticWeights(String shapeName, ModelConfig config, long seed) {
        this.shapeName = shapeName;
        this.config = config;
        this.seed = seed;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    public long seed() {
        return seed;
    }

    @Override
    public boolean contains(String name) {
        return !name.equals("lm_head.weight");
    }

    @Override
    public float[] read(String name, long... shape) {
        long count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] out = new float[Math.toIntExact(count)];
        if (name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.endsWith("ln_f.weight")) {
            Arrays.fill(out, 1f);
            return out;
        }
        if (name.contains(".ln_")) {
            return out;
        }
        long base = seed * 0x9E3779B97F4A7C15L ^ name.hashCode() * 0xC2B2AE3D27D4EB4FL;
        float halfWidth = (float) (STD * Math.sqrt(3));
        IntStream.range(0, (out.length + CHUNK - 1) / CHUNK).parallel().forEach(chunk -> {
            SplittableRandom random = new SplittableRandom(base + chunk);
            int end = Math.min(out.length, (chunk + 1) * CHUNK);
            for (int i = chunk * CHUNK; i < end; i++) {
                out[i] = (random.nextFloat() * 2 - 1) * halfWidth;
            }
        });
        return out;
    }

    @Override
    public String description() {
        return "synthetic " + shapeName + " seed " + seed;
    }

    @Override
    public void close() {}
}
