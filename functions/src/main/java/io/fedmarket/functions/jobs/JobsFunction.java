package io.fedmarket.functions.jobs;

import io.fedmarket.functions.http.ApiRouter;
import io.fedmarket.functions.http.HttpApiEvent;
import io.fedmarket.functions.http.HttpApiResponse;
import io.fedmarket.functions.http.Route;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;

import java.util.List;

/** Lambda {@code jobs}: a job's status, rounds, participants, verdicts, slashes and cost so far. */
public class JobsFunction {
    @Inject
    ApiRouter router;

    @Inject
    JobService jobs;

    public List<Route> routes() {
        return List.of(Route.signedIn("GET", "/jobs/{id}", JobViews.JobView.class,
                "A job the caller builds, takes part in, or verifies/operates", r -> jobs.job(r.caller(), r.path("id"))));
    }

    @Funq("jobs")
    public HttpApiResponse handle(HttpApiEvent event) {
        return router.dispatch("jobs", routes(), event);
    }
}
