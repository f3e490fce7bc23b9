package io.fedmarket.functions.intents;

import io.fedmarket.functions.http.ApiRouter;
import io.fedmarket.functions.http.HttpApiEvent;
import io.fedmarket.functions.http.HttpApiResponse;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.http.Route;
import io.fedmarket.model.Role;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;

import java.util.List;

/** Lambda {@code intents}: a builder's intents. */
public class IntentsFunction {
    @Inject
    ApiRouter router;

    @Inject
    IntentService intents;

    @Inject
    io.fedmarket.functions.models.ModelUploads models;

    public List<Route> routes() {
        return List.of(
                Route.of("POST", "/intents", Role.BUILDER, SubmitIntentRequest.class, IntentView.class, 201,
                        "Submit an intent; it is stored and queued for matching in one transaction",
                        r -> intents.submit(r.caller(), Json.read(r.event().body(), SubmitIntentRequest.class))),
                Route.of("GET", "/intents", Role.BUILDER, null, IntentView.Page.class, 200,
                        "List the caller's intents, newest first (query: status, limit 1-200)",
                        r -> intents.list(r.caller(), r.event().query("status"), r.event().query("limit"))),
                Route.of("GET", "/intents/{id}", Role.BUILDER, null, IntentView.class, 200,
                        "One of the caller's intents", r -> intents.get(r.caller(), r.path("id"))),
                Route.of("POST", "/intents/{id}/cancel", Role.BUILDER, null, IntentView.class, 200,
                        "Cancel an intent before training starts; a funded job's escrow goes back through the settle queue",
                        r -> intents.cancel(r.caller(), r.path("id"))),
                Route.of("POST", "/models", Role.BUILDER, Route.Binary.class, io.fedmarket.functions.models.ModelUploads.ModelView.class, 201,
                        "Upload a TorchScript model (the file itself, Content-Type: application/octet-stream, at most 4 MiB): checked (a "
                                + "TorchScript archive with parameters, no non-deterministic op) and stored by its SHA-256; an intent names it "
                                + "as model {architecture: TORCHSCRIPT, spec: torchscript:<sha256>}. The same file again is the same model",
                        r -> models.upload(r.caller(), r.event().bodyBytes())),
                Route.of("GET", "/models/{sha256}", Role.BUILDER, null, io.fedmarket.functions.models.ModelUploads.ModelView.class, 200,
                        "An uploaded TorchScript model: its parameters, buffers and output classes as the marketplace read them",
                        r -> models.get(r.path("sha256"))));
    }

    @Funq("intents")
    public HttpApiResponse handle(HttpApiEvent event) {
        return router.dispatch("intents", routes(), event);
    }
}
