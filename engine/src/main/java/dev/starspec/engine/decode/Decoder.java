package dev.starspec.engine.decode;

/** Turns a prompt into a completion. Implementations are thread-safe: each call decodes its own sequence. */
public interface Decoder {

    Generation generate(GenerationRequest request);

    /** What the output rows name as the target, e.g. {@code tiny-starcoder-target:int4}. */
    String targetId();

    /** What the output rows name as the draft, or null when this decoder does not speculate. */
    String draftId();
}
