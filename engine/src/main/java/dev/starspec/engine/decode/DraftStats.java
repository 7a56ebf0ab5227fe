package dev.starspec.engine.decode;

/**
 * What speculation did during one generation.
 *
 * @param proposed draft tokens offered to the target
 * @param accepted draft tokens the target agreed with
 * @param steps verification passes that checked at least one proposal
 * @param draftPasses draft model passes that included this row after its prompt (0 for prompt lookup)
 */
public record DraftStats(long proposed, long accepted, long steps, long draftPasses) {

    public double acceptanceRate() {
        return proposed == 0 ? Double.NaN : (double) accepted / proposed;
    }

    /** Draft tokens accepted per verification pass that had proposals. */
    public double meanAcceptedLength() {
        return steps == 0 ? Double.NaN : (double) accepted / steps;
    }
}
