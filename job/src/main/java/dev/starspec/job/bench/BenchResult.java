package dev.starspec.job.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One configuration's figures.
 *
 * @param decodeBytes weight bytes read per decoded token
 * @param bandwidthGBs median of the bandwidths measured before each run
 * @param passOverFloor median over runs of the time of one target pass after the first token / (decodeBytes / that
 *     run's bandwidth): how close the kernels come to the memory (a free prompt-lookup guess in the spare slot of an
 *     even pass can make TPOT itself drop below the floor)
 * @param acceptance draft tokens accepted / proposed, NaN without a draft
 * @param tokensPerPass tokens produced per target pass after the prompt (1 without a draft)
 * @param proposalsPerPass draft tokens a verification pass checked, on average (0 without a draft)
 * @param draftPassesPerPass draft model passes per target pass (0 without a draft model)
 * @param peakResidentBytes the process's peak resident memory so far (VmHWM)
 * @param ttftMinMs, ttftMaxMs the spread of TTFT over the runs (prefill speed moves with the machine's load)
 */
public record BenchResult(String model, String draft, int promptTokens, double newTokens, double ttftMs,
                          double ttftMinMs, double ttftMaxMs, double tpotMs, long decodeBytes, double bandwidthGBs, double passOverFloor, double acceptance,
                          double tokensPerPass, double proposalsPerPass, double draftPassesPerPass, long peakResidentBytes) {

    public static final String HEADER = String.format("%-44s %7s %9s %7s %9s %9s %9s %10s %9s %9s %9s",
            "model", "prompt", "GB/token", "GB/s", "floor ms", "TPOT ms", "pass ms", "pass/floor", "TTFT ms", "tokens/s",
            "peak RSS");

    /** A target pass after the first token, in milliseconds: the median pass/floor ratio at the median bandwidth. */
    public double passMs() {
        return passOverFloor * floorMs();
    }

    public double floorMs() {
        return decodeBytes / (bandwidthGBs * 1e9) * 1e3;
    }

    public String row() {
        String name = draft == null ? model : model + " + " + draft;
        return String.format("%-44s %7d %9.3f %7.1f %9.2f %9.2f %9.2f %10.2f %9.1f %9.1f %8.2fG", name, promptTokens,
                decodeBytes / 1e9, bandwidthGBs, floorMs(), tpotMs, passMs(), passOverFloor, ttftMs, 1000 / tpotMs,
                peakResidentBytes / 1e9);
    }

    public ObjectNode json() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("model", model);
        n.put("draft", draft);
        n.put("prompt_tokens", promptTokens);
        n.put("new_tokens", newTokens);
        n.put("ttft_ms", ttftMs);
        n.put("ttft_min_ms", ttftMinMs);
        n.put("ttft_max_ms", ttftMaxMs);
        n.put("tpot_ms", tpotMs);
        n.put("tokens_per_s", 1000 / tpotMs);
        n.put("weight_bytes_per_token", decodeBytes);
        n.put("bandwidth_gb_s", bandwidthGBs);
        n.put("floor_ms", floorMs());
        n.put("pass_ms", passMs());
        n.put("pass_over_floor", passOverFloor);
        n.put("tpot_over_floor", tpotMs / floorMs());
        n.put("tokens_per_target_pass", tokensPerPass);
        if (!Double.isNaN(acceptance)) {
            n.put("acceptance_rate", acceptance);
        }
        n.put("peak_rss_bytes", peakResidentBytes);
        return n;
    }
}
