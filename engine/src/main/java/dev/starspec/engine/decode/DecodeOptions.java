package dev.starspec.engine.decode;

/**
 * How a decoder schedules and speculates; per-request settings (max new tokens, stops, sampling) travel with each
 * request.
 *
 * @param batchSize rows decoding at once; {@link #AUTO_BATCH} picks it from the models' measured pass costs
 * @param draftLength how many draft tokens a row proposes per step (ignored without a draft)
 * @param speculativeSampling how speculation samples at temperature above zero
 * @param contextPolicy what to do with prompts too long for the context
 */
public record DecodeOptions(int batchSize, DraftLength draftLength, SpeculativeSampling speculativeSampling,
                            ContextPolicy contextPolicy) implements java.io.Serializable {

    public static final int AUTO_BATCH = 0;
    /** The most rows the automatic choice considers. */
    public static final int MAX_AUTO_BATCH = 64;

    public DecodeOptions {
        if (batchSize < 0 || batchSize > dev.starspec.engine.graph.Signature.ROWS) {
            throw new IllegalArgumentException("batch size must lie in 1.." + dev.starspec.engine.graph.Signature.ROWS
                    + " (or auto), got " + batchSize);
        }
        if (draftLength == null || speculativeSampling == null || contextPolicy == null) {
            throw new IllegalArgumentException("decode options need a draft length, a sampling mode and a context policy");
        }
    }

    /** One row at a time, K fixed: the behaviour of a decoder without batching. */
    public static DecodeOptions sequential(DraftLength draftLength) {
        return new DecodeOptions(1, draftLength, SpeculativeSampling.COUPLED, ContextPolicy.ERROR);
    }

    public DecodeOptions withBatchSize(int n) {
        return new DecodeOptions(n, draftLength, speculativeSampling, contextPolicy);
    }

    public DecodeOptions withDraftLength(DraftLength d) {
        return new DecodeOptions(batchSize, d, speculativeSampling, contextPolicy);
    }

    public DecodeOptions withSpeculativeSampling(SpeculativeSampling s) {
        return new DecodeOptions(batchSize, draftLength, s, contextPolicy);
    }

    public DecodeOptions withContextPolicy(ContextPolicy p) {
        return new DecodeOptions(batchSize, draftLength, speculativeSampling, p);
    }
}
