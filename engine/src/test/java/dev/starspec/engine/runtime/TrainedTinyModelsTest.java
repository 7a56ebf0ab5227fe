package dev.starspec.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.starspec.engine.artifact.Artifact;
import dev.starspec.engine.testing.ProjectFiles;
import dev.starspec.engine.testing.TestArtifacts;
import java.io.IOException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The trained tiny pair, converted and run by the engine, reproduces reference-logits.json, which a separate
 * numpy implementation wrote: top-5 logits and selected logits at the last prompt position, and the 16-token
 * greedy continuation with its text.
 */
class TrainedTinyModelsTest {

    static Stream<Arguments> cases() throws IOException {
        JsonNode ref = new ObjectMapper().readTree(ProjectFiles.data("models/reference-logits.json").toFile());
        Stream.Builder<Arguments> b = Stream.builder();
        int i = 0;
        for (JsonNode prompt : ref.path("prompts")) {
            b.add(Arguments.of("target", i, prompt));
            b.add(Arguments.of("draft", i, prompt));
            i++;
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} prompt {1}")
    @MethodSource("cases")
    void reproducesReferenceLogitsAndGreedyContinuation(String which, int index, JsonNode prompt) {
        Artifact artifact = which.equals("target") ? TestArtifacts.tinyTarget() : TestArtifacts.tinyDraft();
        JsonNode expected = prompt.path(which);
        int[] ids = ints(prompt.path("ids"));
        if (prompt.hasNonNull("text")) {
            try (Model m = Model.load(artifact, RuntimeOptions.defaults())) {
                assertArrayEquals(ids, m.tokenizer().encode(prompt.get("text").asText()), "prompt ids");
            }
        }
        try (Model model = Model.load(artifact, RuntimeOptions.defaults());
             Batch seq = model.newBatch(OffHeapMemory.root(), new Batch.Limits(1, ids.length + 16, 512, 1))) {
            Logits logits = seq.prefill(0, ids, 0, ids.length, 512);
            int[] top5 = ints(expected.path("top5_ids"));
            for (int k = 0; k < 5; k++) {
                assertEquals(expected.path("top5_logits").get(k).asDouble(), logits.get(0, top5[k]), 2e-4,
                        "logit of top-" + (k + 1) + " id " + top5[k]);
            }
            assertEquals(top5[0], logits.argmax(0));
            int[] probes = {0, 1, 203};
            for (int k = 0; k < probes.length; k++) {
                assertEquals(expected.path("logits_at_ids_0_1_203").get(k).asDouble(), logits.get(0, probes[k]), 2e-4);
            }
            int[] greedy = new int[16];
            for (int step = 0; step < 16; step++) {
                greedy[step] = logits.argmax(0);
                seq.add(0, greedy, step, 1, 0);
                logits = seq.run(false);
            }
            assertArrayEquals(ints(expected.path("greedy16_ids")), greedy);
            assertEquals(expected.path("greedy16_text").asText(), model.tokenizer().decode(greedy));
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
