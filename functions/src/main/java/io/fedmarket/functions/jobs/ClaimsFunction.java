package io.fedmarket.functions.jobs;

import io.fedmarket.functions.http.ApiRouter;
import io.fedmarket.functions.http.HttpApiEvent;
import io.fedmarket.functions.http.HttpApiResponse;
import io.fedmarket.functions.http.Route;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;

import java.util.List;

/** Lambda {@code claims}: the caller's cumulative payout of a job with its Merkle proof, ready to submit on chain. */
public class ClaimsFunction {
    @Inject
    ApiRouter router;

    @Inject
    JobService jobs;

    public List<Route> routes() {
        return List.of(Route.signedIn("GET", "/claims/{jobId}", JobViews.ClaimView.class,
                "The caller's latest cumulative payout of a job, the payout root and the Merkle proof", r -> jobs.claim(r.caller(), r.path("jobId"))));
    }

    @Funq("claims")
    public HttpApiResponse handle(HttpApiEvent event) {
        return router.dispatch("claims", routes(), event);
    }
}
