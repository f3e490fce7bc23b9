package io.fedmarket.functions;

import io.fedmarket.model.Role;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Jobs.class)
@WithTestResource(TestStack.class)
class JobsFunctionTest {

    @Test
    void builderParticipantsAndVerifiersSeeTheJobOthersDoNot() throws Exception {
        Seed.Job j = Seed.job(2, true);
        Seed.exec("insert into verdicts (task_id, job_id, round_no, accepted, decided_at) values ('" + j.taskIds().get(0) + "', '" + j.jobId() + "', 1, true, now())");
        Seed.exec("insert into verdicts (task_id, job_id, round_no, accepted, reason, decided_at) values ('" + j.taskIds().get(1) + "', '" + j.jobId() + "', 1, false, 'mismatch', now())");
        Seed.exec("insert into slashes (id, job_id, round_no, task_id, address, amount, evidence_hash, status, dispute_until, created_at) values (gen_random_uuid(), '"
                + j.jobId() + "', 1, '" + j.taskIds().get(1) + "', '" + j.workers().get(1) + "', 500, '0xev', 'PENDING', now() + interval '1 day', now())");
        String builder = Seed.one("select builder from jobs where id = '" + j.jobId() + "'");

        Api.Response b = Api.call("GET", "/jobs/" + j.jobId(), null, Api.token(builder, Role.BUILDER));
        assertThat(b.status()).as(b.body().toString()).isEqualTo(200);
        assertThat(b.body().get("clearingPricePerGpuSecond").asText()).isEqualTo("7");
        assertThat(b.body().get("participants")).hasSize(2);
        assertThat(b.body().at("/rounds/0/accepted").asLong()).isEqualTo(1);
        assertThat(b.body().at("/rounds/0/rejected").asLong()).isEqualTo(1);
        assertThat(b.body().at("/slashes/0/amount").asText()).isEqualTo("500");

        assertThat(Api.call("GET", "/jobs/" + j.jobId(), null, Api.token(j.workers().get(0), Role.PROVIDER)).status()).isEqualTo(200);
        assertThat(Api.call("GET", "/jobs/" + j.jobId(), null, Api.token(Api.address(Api.newKey()).toLowerCase(), Role.VERIFIER)).status()).isEqualTo(200);
        assertThat(Api.call("GET", "/jobs/" + j.jobId(), null, Api.token(Api.address(Api.newKey()).toLowerCase(), Role.BUILDER, Role.PROVIDER)).status()).isEqualTo(404);
        assertThat(Api.call("GET", "/jobs/" + j.jobId(), null, null).status()).isEqualTo(401);
        assertThat(Api.call("GET", "/jobs/nope", null, Api.token(builder, Role.BUILDER)).status()).isEqualTo(404);
    }
}
