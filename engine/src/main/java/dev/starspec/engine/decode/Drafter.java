package dev.starspec.engine.decode;

import java.util.List;

/**
 * Proposes draft tokens for the decoding rows of one {@link Decoding}: a draft model batched across rows
 * ({@link ModelDrafter}) or n-gram lookup in each row's text ({@link LookupDrafter}).
 */
interface Drafter extends AutoCloseable {

    /** Follows the target batch's shape: {@code slots} rows of up to {@code capacity} positions. */
    void reshape(int slots, int capacity);

    /** Whether a row with this prompt can be drafted for at all. */
    boolean fits(Prompt prompt);

    /** Takes in the prompt chunks the target's prefill pass takes ({@code counts[i]} tokens of {@code rows[i]}). */
    void prefill(List<? extends Row<?>> rows, int[] counts);

    /** The most proposals this drafter can make for a row now (0: none this step). */
    int room(Row<?> row);

    /** Tokens the drafter must take in before it can propose for this row (a model's catch-up). */
    int behind(Row<?> row);

    /**
     * Proposes up to {@code row.k} tokens for every row into {@code row.window[1..]}, setting {@code row.n}
     * (and {@code row.q} when rejection sampling). Rows with {@code k == 0} get none.
     */
    void propose(List<? extends Row<?>> rows);

    /** The row's first {@code row.length - 1} tokens are final; forget what was drafted beyond them. */
    void keep(Row<?> row);

    /** Forgets a pass left half-built by a failure. */
    void clear();

    /** The slot's row is done. */
    void release(int slot);

    @Override
    void close();
}
