package dev.starspec.engine.artifact;

import java.nio.file.Path;
import java.util.Locale;

/**
 * What {@code convert --quant} asks for.
 *
 * @param scheme fp32, int8 (SmoothQuant A8W8) or int4 (RTN weight-only)
 * @param groupSize weights per scale (and int4 zero point) along the input channel: int4 128 (RTN g128, as the
 *     study); int8 256, the largest block MatMulNBits takes, nearest to SmoothQuant's per-output-channel scales
 *     (measured on starcoderbase-1b: prefill 6% faster than 128 and 34% faster than 32, same quality)
 * @param smoothAlpha int8: SmoothQuant's migration strength a in s = max|X|^a / max|W|^(1-a)
 * @param calibration int8: calibration prompts (JSONL/JSON with text or prompt fields, or plain text); null =
 *     the bundled MBPP prompts
 * @param calibrationSamples int8: prompts used for calibration
 * @param quantizeLmHead int8/int4: quantize the lm_head too (it is read for every token); the token embedding
 *     stays float32 either way (a lookup reads one row)
 */
public record QuantSpec(String scheme, int groupSize, double smoothAlpha, Path calibration, int calibrationSamples,
                        boolean quantizeLmHead) {

    public static final QuantSpec FP32 = new QuantSpec("fp32", 128, 0.5, null, 128, true);

    public QuantSpec {
        scheme = scheme.toLowerCase(Locale.ROOT);
        if (!scheme.equals("fp32") && !scheme.equals("int8") && !scheme.equals("int4")) {
            throw new IllegalArgumentException("unknown quantization '" + scheme + "' (fp32, int8, int4)");
        }
        if (groupSize < 16 || Integer.bitCount(groupSize) != 1) {
            throw new IllegalArgumentException("group size must be a power of two >= 16, got " + groupSize);
        }
        if (!(smoothAlpha >= 0 && smoothAlpha <= 1)) {
            throw new IllegalArgumentException("smoothing alpha must lie in [0, 1], got " + smoothAlpha);
        }
        if (calibrationSamples <= 0) {
            throw new IllegalArgumentException("calibration samples must be positive");
        }
    }

    public static QuantSpec of(String scheme) {
        return new QuantSpec(scheme, defaultGroupSize(scheme), FP32.smoothAlpha(), null, FP32.calibrationSamples(), true);
    }

    public static int defaultGroupSize(String scheme) {
        return scheme.equalsIgnoreCase("int8") ? 256 : 128;
    }

    /** A stable text of everything that changes the artifact, for cache keys. */
    public String key() {
        return switch (scheme) {
            case "int4" -> "int4-g" + groupSize + (quantizeLmHead ? "" : "-fp32head");
            case "int8" -> "int8-g" + groupSize + "-a" + smoothAlpha + "-n" + calibrationSamples
                    + (calibration == null ? "" : "-" + calibration.toAbsolutePath()) + (quantizeLmHead ? "" : "-fp32head");
            default -> "fp32";
        };
    }
}
