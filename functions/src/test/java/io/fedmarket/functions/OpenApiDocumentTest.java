package io.fedmarket.functions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.functions.openapi.OpenApiDocument;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The checked-in functions/openapi.json is what the code generates, and it has exactly the routes of functions.json. */
class OpenApiDocumentTest {

    @Test
    void checkedInDocumentIsCurrentAndMatchesFunctionsJson() throws Exception {
        String generated = OpenApiDocument.generate();
        Path file = Path.of("openapi.json");
        assertThat(Files.isRegularFile(file)).as("functions/openapi.json exists (regenerate: java ... OpenApiDocument functions/openapi.json)").isTrue();
        assertThat(Files.readString(file)).as("functions/openapi.json is stale: regenerate it with io.fedmarket.functions.openapi.OpenApiDocument").isEqualTo(generated);

        ObjectMapper json = new ObjectMapper();
        JsonNode doc = json.readTree(generated);
        assertThat(doc.get("openapi").asText()).startsWith("3.1");
        Set<String> documented = new TreeSet<>();
        doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames().forEachRemaining(m -> documented.add(m.toUpperCase() + " " + p.getKey())));
        Set<String> declared = new TreeSet<>();
        try (InputStream in = getClass().getResourceAsStream("/io/fedmarket/functions.json")) {
            for (JsonNode fn : json.readTree(in).get("functions")) {
                if ("api".equals(fn.get("trigger").asText())) {
                    fn.get("routes").forEach(r -> declared.add(r.asText()));
                }
            }
        }
        assertThat(documented).isEqualTo(declared);
        JsonNode submit = doc.at("/paths/~1intents/post");
        assertThat(submit.at("/x-fedmarket-role").asText()).isEqualTo("builder");
        assertThat(submit.at("/responses/422/content/application~1json/schema/$ref").asText()).isEqualTo("#/components/schemas/Error");
        JsonNode req = doc.at("/components/schemas/SubmitIntentRequest/properties");
        assertThat(req.has("budget") && req.has("deadline") && req.has("privacy") && req.has("aggregation")).isTrue();
        assertThat(doc.at("/components/schemas/Privacy/properties/mode/enum").toString()).contains("DP").contains("NONE");
        // the stricter rules of the front door are part of the contract
        assertThat(submit.has("responses") && submit.get("responses").has("415")).as("POST /intents documents 415").isTrue();
        assertThat(doc.at("/paths/~1auth~1challenge/post/responses").has("429")).isTrue();
        assertThat(req.at("/deadline/pattern").asText()).endsWith("Z$");
        assertThat(doc.at("/info/description").asText()).contains("Content-Type: application/json").contains("405");
    }
}
