package io.fedmarket.functions;

import io.fedmarket.crypto.MerkleTree;
import io.fedmarket.crypto.PayoutLeaf;
import io.fedmarket.crypto.PayoutTree;
import io.fedmarket.model.Role;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Claims.class)
@WithTestResource(TestStack.class)
class ClaimsFunctionTest {

    @Test
    void theCallerGetsOnlyItsOwnClaimWithAProof() throws Exception {
        Seed.Job j = Seed.job(3, true);
        Map<String, BigInteger> cum = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            cum.put(j.workers().get(i), BigInteger.valueOf(1000L * (i + 1)));
        }
        PayoutTree tree = PayoutTree.of(cum);
        Seed.exec("insert into payout_roots (job_id, round_no, model_hash, payout_root, created_at) values ('" + j.jobId() + "', 1, '0xmodel', '" + tree.rootHex() + "', now())");
        for (var e : cum.entrySet()) {
            Seed.exec("insert into payouts (job_id, round_no, address, cumulative, proof) values ('" + j.jobId() + "', 1, '" + e.getKey() + "', "
                    + e.getValue() + ", '" + Api.json(tree.proof(e.getKey()).stream().map(io.fedmarket.crypto.Hashes::hex).toList()) + "')");
        }
        Api.Response r = Api.call("GET", "/claims/" + j.jobId(), null, Api.token(j.workers().get(1), Role.PROVIDER));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        assertThat(r.body().get("cumulative").asText()).isEqualTo("2000");
        assertThat(r.body().get("payoutRoot").asText()).isEqualTo(tree.rootHex());
        List<String> proof = List.of(Api.JSON.treeToValue(r.body().get("proof"), String[].class));
        assertThat(MerkleTree.verify(proof.stream().map(io.fedmarket.crypto.Hashes::fromHex32).toList(), tree.root(),
                new PayoutLeaf(j.workers().get(1), BigInteger.valueOf(2000)).hash())).as("the served proof verifies").isTrue();

        String stranger = Api.address(Api.newKey()).toLowerCase();
        assertThat(Api.call("GET", "/claims/" + j.jobId(), null, Api.token(stranger, Role.PROVIDER)).status()).isEqualTo(404);
        assertThat(Api.call("GET", "/claims/" + UUID.randomUUID(), null, Api.token(j.workers().get(1), Role.PROVIDER)).status()).isEqualTo(404);
        assertThat(Api.call("GET", "/claims/" + j.jobId(), null, null).status()).isEqualTo(401);
    }
}
