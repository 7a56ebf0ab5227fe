package dev.starspec.engine.checkpoint;

/**
 * Where a model's weights come from: a checkpoint on disk, or random numbers for a named shape. Tensors use
 * Hugging Face GPTBigCode names and layouts (a Linear's weight is {@code [out, in]}).
 */
public interface WeightSource extends AutoCloseable {

    ModelConfig config();

    /** The tensor as float32, row-major; fails naming the file and tensor if it is absent or shaped otherwise. */
    float[] read(String name, long... shape);

    boolean contains(String name);

    /** What these weights are, for the artifact's manifest. */
    String description();

    @Override
    void close();
}
