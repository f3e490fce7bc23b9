package io.fedmarket.functions.providers;

import io.fedmarket.functions.http.ApiRouter;
import io.fedmarket.functions.http.HttpApiEvent;
import io.fedmarket.functions.http.HttpApiResponse;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.http.Route;
import io.fedmarket.model.Role;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;

import java.util.List;

/** Lambda {@code providers}: a provider registers and updates its GPU and data offers and sees its bond. */
public class ProvidersFunction {
    @Inject
    ApiRouter router;

    @Inject
    ProviderService providers;

    public List<Route> routes() {
        return List.of(
                Route.of("POST", "/providers/gpu", Role.PROVIDER, ProviderRequests.GpuProviderRequest.class, ProviderRequests.GpuProviderView.class, 201,
                        "Register or update (by name) a GPU offer of the caller",
                        r -> providers.upsertGpu(r.caller(), Json.read(r.event().body(), ProviderRequests.GpuProviderRequest.class))),
                Route.of("POST", "/providers/data", Role.PROVIDER, ProviderRequests.DataProviderRequest.class, ProviderRequests.DataProviderView.class, 201,
                        "Register or update (by name) a data offer of the caller",
                        r -> providers.upsertData(r.caller(), Json.read(r.event().body(), ProviderRequests.DataProviderRequest.class))),
                Route.of("GET", "/providers/me", Role.PROVIDER, null, ProviderRequests.ProvidersView.class, 200,
                        "The caller's offers and its bond as mirrored from chain", r -> providers.mine(r.caller())));
    }

    @Funq("providers")
    public HttpApiResponse handle(HttpApiEvent event) {
        return router.dispatch("providers", routes(), event);
    }
}
