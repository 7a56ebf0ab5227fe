package dev.starspec.engine.decode;

/**
 * What speculation did during one generation.
 *
 * @param proposed draft tokens offered to the target
 * @param accepted draft tokens the target agreed with
 * @param targetPasses target forward passes after prefill (each verifies one run of proposals)
 * @param draftPasses draft forward passes after prefill
 */
public record DraftStats(long proposed, long accepted, long targetPasses, long draftPasses) {

    public static final DraftStats NONE = new DraftStats(0, 0, 0, 0);

    public double acceptanceRate() {
        return proposed == 0 ? Double.NaN : (double) accepted / proposed;
    }

    /** Draft tokens accepted per verification pass. */
    public double meanAcceptedLength() {
        return targetPasses == 0 ? Double.NaN : (double) accepted / targetPasses;
    }
}
