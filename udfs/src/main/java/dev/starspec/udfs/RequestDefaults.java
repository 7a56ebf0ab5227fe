package dev.starspec.udfs;

import dev.starspec.engine.decode.GenerationRequest;
import dev.starspec.engine.decode.Sampling;
import java.io.Serializable;
import java.util.List;

/**
 * What a prompt gets when its row does not say: max new tokens, sampling and stop sequences.
 *
 * @param seed combined with each row's id, so that every row has a random stream of its own
 */
public record RequestDefaults(int maxNewTokens, double temperature, double topP, int topK, long seed, List<String> stops)
        implements Serializable {

    public RequestDefaults {
        stops = stops == null ? List.of() : List.copyOf(stops);
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("max new tokens must be positive, got " + maxNewTokens);
        }
        new Sampling(temperature, topP, topK, seed); // validates
    }

    /** Greedy decoding and the HumanEval stop sequences. */
    public static RequestDefaults humanEval(int maxNewTokens) {
        return new RequestDefaults(maxNewTokens, 0, 1, 0, 0, GenerationRequest.HUMANEVAL_STOPS);
    }

    public RequestDefaults withMaxNewTokens(int n) {
        return new RequestDefaults(n, temperature, topP, topK, seed, stops);
    }

    /** The request for one prompt; the row's own values, where given, win over the defaults. */
    public GenerationRequest request(String prompt, Integer rowMaxNewTokens, Double rowTemperature, List<String> rowStops,
                                     long rowSeed) {
        double t = rowTemperature != null ? rowTemperature : temperature;
        return new GenerationRequest(prompt, rowMaxNewTokens != null ? rowMaxNewTokens : maxNewTokens,
                rowStops != null ? rowStops : stops, new Sampling(t, topP, topK, rowSeed));
    }

    /** A row's seed: the job's, mixed with the row's id (a row without an id gets the job's own). */
    public long seedFor(String id) {
        return seed ^ (id == null ? 0 : id.hashCode() * 0x9E3779B97F4A7C15L);
    }
}
