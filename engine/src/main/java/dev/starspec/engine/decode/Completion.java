package dev.starspec.engine.decode;

import dev.starspec.engine.tokenizer.StreamingDetokenizer;
import dev.starspec.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * The generated tokens and text of one generation, and the rules that end it: EOS, a stop sequence, max new
 * tokens. Every decoder feeds its tokens through here one at a time, in order, so a speculative run that
 * accepts several tokens at once stops at exactly the token plain decoding would have stopped at.
 */
final class Completion {

    private final StreamingDetokenizer detokenizer;
    private final int eos;
    private final int maxNewTokens;
    private final List<String> stops;
    private final int longestStop;
    private final StringBuilder text = new StringBuilder();
    private int[] tokens = new int[32];
    private int count;
    private FinishReason finish;
    private int cut = -1;

    Completion(Tokenizer tokenizer, int eos, int maxNewTokens, List<String> stops) {
        this.detokenizer = new StreamingDetokenizer(tokenizer);
        this.eos = eos;
        this.maxNewTokens = maxNewTokens;
        this.stops = stops;
        this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Adds the next generated token; true when the generation is over. */
    boolean add(int token) {
        if (finish != null) {
            throw new IllegalStateException("generation already finished: " + finish);
        }
        if (count == tokens.length) {
            tokens = Arrays.copyOf(tokens, 2 * count);
        }
        tokens[count++] = token;
        if (token == eos) {
            finish = FinishReason.EOS;
            append(detokenizer.flush());
            return true;
        }
        if (append(detokenizer.add(token))) {
            finish = FinishReason.STOP;
            return true;
        }
        if (count == maxNewTokens) {
            finish = append(detokenizer.flush()) ? FinishReason.STOP : FinishReason.LENGTH;
            return true;
        }
        return false;
    }

    /** Appends text and looks for a stop sequence that may have just completed; true if one did. */
    private boolean append(String piece) {
        if (piece.isEmpty() || cut >= 0) {
            return cut >= 0;
        }
        int searchFrom = Math.max(0, text.length() - longestStop + 1);
        text.append(piece);
        int earliest = -1;
        for (String stop : stops) {
            int at = text.indexOf(stop, searchFrom);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        cut = earliest;
        return cut >= 0;
    }

    boolean finished() {
        return finish != null;
    }

    int count() {
        return count;
    }

    int last() {
        return tokens[count - 1];
    }

    /** Tokens that may still be generated. */
    int remaining() {
        return maxNewTokens - count;
    }

    FinishReason finishReason() {
        return finish;
    }

    String text() {
        return cut >= 0 ? text.substring(0, cut) : text.toString();
    }

    int[] tokens() {
        return Arrays.copyOf(tokens, count);
    }

    Generation toGeneration(LatencyClock clock, int promptTokens, long targetPasses, DraftStats draft) {
        return new Generation(text(), tokens(), finish, promptTokens, clock.ttftMs(), clock.tpotMs(count),
                clock.sinceStartMs(), targetPasses, draft);
    }
}
