package dev.starspec.job.cli;

import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.convert.Converter;
import dev.starspec.engine.artifact.QuantSpec;
import dev.starspec.job.humaneval.Problems;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code starspec convert}: a Hugging Face checkpoint (or a synthetic shape) to an ONNX artifact. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a GPTBigCode checkpoint (or random weights of a named shape) to an artifact: "
                + "model.onnx, model.onnx.data, tokenizer.json, manifest.json.")
public final class ConvertCommand implements Callable<Integer> {

    static final class From {
        @Option(names = "--checkpoint", required = true, description = "Hugging Face checkpoint folder")
        Path checkpoint;

        @Option(names = "--synthetic", required = true,
                description = "random weights of a shape: tiny_starcoder_py, starcoderbase-1b, starcoder, or "
                        + "n_embd=..,n_layer=..,n_head=..[,n_inner=..][,multi_query=false][,activation=gelu]")
        String synthetic;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    From from;

    @Option(names = "--quant", defaultValue = "fp32", description = "fp32, int8 (SmoothQuant) or int4 (RTN); default ${DEFAULT-VALUE}")
    String quant;

    @Option(names = "--out", required = true, description = "artifact folder to write")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "random seed for --synthetic")
    long seed;

    @Option(names = "--tokenizer", description = "tokenizer.json for --synthetic (default: the bundled StarCoder tokenizer)")
    Path tokenizer;

    @Option(names = "--group-size", description = "block size along the input channel (default: 128 for int4, 256 for int8)")
    Integer groupSize;

    @Option(names = "--smooth-alpha", defaultValue = "0.5", description = "int8 SmoothQuant migration strength (default ${DEFAULT-VALUE})")
    double smoothAlpha;

    @Option(names = "--calibration", description = "int8 calibration text (JSONL/JSON/plain text; default: bundled MBPP train split)")
    Path calibration;

    @Option(names = "--calibration-samples", defaultValue = "128", description = "int8 calibration samples (default ${DEFAULT-VALUE})")
    int calibrationSamples;

    @Option(names = "--quantize-lm-head", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "quantize the lm_head as well (default ${DEFAULT-VALUE})")
    boolean quantizeLmHead;

    @Option(names = "--quality", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "measure the quantized model against fp32 on HumanEval, block by block (checkpoints only; "
                    + "default ${DEFAULT-VALUE})")
    boolean quality;

    @Option(names = "--quality-positions", description = "measure over the first HumanEval texts covering this many "
            + "token positions (default: all of them, or 4096 for models over 3B parameters)")
    Integer qualityPositions;

    private boolean measureQuality(QuantSpec spec) {
        return from.checkpoint != null && !spec.scheme().equals("fp32") && quality;
    }

    /** Large models get a sample of the held-out positions unless told otherwise: each costs two full passes. */
    private int qualityPositions() {
        if (qualityPositions != null) {
            return qualityPositions;
        }
        long parameters = dev.starspec.engine.checkpoint.ModelConfig.read(from.checkpoint.resolve("config.json"))
                .parameterCount();
        return parameters > 3_000_000_000L ? 4096 : 0;
    }

    @Override
    public Integer call() {
        QuantSpec spec = new QuantSpec(quant, groupSize != null ? groupSize : QuantSpec.defaultGroupSize(quant), smoothAlpha,
                calibration, calibrationSamples, quantizeLmHead);
        Converter.Source source = from.checkpoint != null ? Converter.Source.checkpoint(from.checkpoint)
                : Converter.Source.synthetic(from.synthetic, seed, tokenizer != null ? tokenizer : Bundled.starcoderTokenizer());
        List<String> heldOut = measureQuality(spec)
                ? Problems.load(Bundled.humanEval()).stream().map(p -> p.prompt() + p.canonicalSolution()).toList()
                : null;
        long start = System.nanoTime();
        Artifact a = Converter.convert(source, spec, out, heldOut, "HumanEval prompt + canonical solution",
                heldOut == null ? 0 : qualityPositions(), m -> System.err.println("convert: " + m));
        System.out.printf("%s -> %s (%s, %.1f MB of weights, %.1f s)%n", a.manifest().name(), a.dir(),
                a.manifest().quantization().scheme(),
                a.manifest().files().get(Artifact.WEIGHTS).bytes() / 1e6, (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
