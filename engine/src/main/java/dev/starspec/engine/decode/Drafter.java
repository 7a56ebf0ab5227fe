package dev.starspec.engine.decode;

import org.apache.arrow.memory.BufferAllocator;

/** Proposes tokens for the target to verify: a smaller model, or n-grams looked up in the text so far. */
public interface Drafter extends AutoCloseable {

    /** What output rows name as the draft: {@code tiny-starcoder-draft:int8}, {@code prompt-lookup}. */
    String id();

    /**
     * Starts drafting for one generation.
     *
     * @param capacity the most tokens (prompt and generated) the generation will hold
     */
    Session start(int capacity, BufferAllocator memory, TokenSampler sampler);

    @Override
    default void close() {}

    /** Drafting state of one generation. */
    interface Session extends AutoCloseable {

        /**
         * Proposes up to {@code k} tokens to follow {@code tokens[0, length)}, into {@code out[offset..]}; when
         * sampling, also the distribution each was drawn from into {@code q[i]} (null for a certain proposal).
         *
         * @return how many were proposed (0 is allowed: the target then takes a plain step)
         */
        int propose(int[] tokens, int length, int k, DraftLength pol, int[] out, int offset, double[][] q);

        /** The first {@code length} tokens are final; forget anything drafted beyond them. */
        void keep(int length);

        /** Forward passes of the draft model so far (0 for drafters without a model). */
        long passes();

        @Override
        void close();
    }
}
