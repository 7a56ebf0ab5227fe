package dev.starspec.udfs;

import java.io.Serializable;

/**
 * Where a model comes from: an artifact or Hugging Face checkpoint folder, or a URL (file:, hdfs:, s3a:, https:)
 * fetched once per node.
 *
 * @param quant for a checkpoint: convert it (once, cached) to fp32, int8 or int4; null for an artifact (or fp32)
 */
public record ModelSpec(String location, String quant) implements Serializable {

    public ModelSpec {
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException("a model location is needed");
        }
    }

    public static ModelSpec of(String location) {
        return new ModelSpec(location, null);
    }
}
