package dev.starspec.engine.checkpoint;

import java.util.Locale;

/** The MLP non-linearity of a GPTBigCode model, as named by {@code activation_function} in config.json. */
public enum Activation {
    /** Exact GELU, x * Phi(x) with the error function (StarCoder 15.5B). */
    GELU("gelu"),
    /** The tanh approximation of GELU (tiny_starcoder_py, starcoderbase-1b). */
    GELU_TANH("gelu_pytorch_tanh");

    private final String hfName;

    Activation(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    /** Accepts Hugging Face's names; {@code gelu_new} is the same tanh formula under its older name. */
    public static Activation fromHfName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "gelu" -> GELU;
            case "gelu_pytorch_tanh", "gelu_new" -> GELU_TANH;
            default -> throw new IllegalArgumentException("unsupported activation_function '" + name
                    + "' (supported: gelu, gelu_pytorch_tanh, gelu_new)");
        };
    }
}
