package io.fedmarket.functions;

import io.fedmarket.model.Role;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Providers.class)
@WithTestResource(TestStack.class)
class ProvidersFunctionTest {

    static Map<String, Object> gpu() {
        return new HashMap<>(Map.of("name", "rack-1", "gpuModel", "L4", "gpuCount", 4, "gpuMemoryGib", 24, "askPerGpuSecond", "12", "region", "eu-west-1"));
    }

    static Map<String, Object> data() {
        return new HashMap<>(Map.of("name", "clinic-a", "domain", "fashion-mnist", "region", "eu-west-1", "sampleCount", 30,
                "labelHistogram", Map.of("0", 10, "1", 20), "datasetRoot", "0x" + "ab".repeat(32)));
    }

    @Test
    void providerRegistersUpdatesAndSeesItsBond() throws Exception {
        String me = Api.address(Api.newKey()).toLowerCase();
        String token = Api.token(me, Role.PROVIDER);
        Api.Response g = Api.call("POST", "/providers/gpu", Api.json(gpu()), token);
        assertThat(g.status()).as(g.body().toString()).isEqualTo(201);
        assertThat(g.body().get("samplesPerSecond").asDouble()).as("no benchmark given: not yet eligible for work").isZero();
        Map<String, Object> measured = gpu();
        measured.put("samplesPerSecond", 4200.5);
        assertThat(Api.call("POST", "/providers/gpu", Api.json(measured), token).body().get("samplesPerSecond").asDouble()).isEqualTo(4200.5);
        Map<String, Object> cheaper = gpu();
        cheaper.put("askPerGpuSecond", "9");
        Api.Response g2 = Api.call("POST", "/providers/gpu", Api.json(cheaper), token);
        assertThat(g2.body().get("id").asText()).as("same name updates the same offer").isEqualTo(g.body().get("id").asText());
        assertThat(Api.call("POST", "/providers/data", Api.json(data()), token).status()).isEqualTo(201);
        Seed.exec("insert into bonds (address, amount, block_number, updated_at) values ('" + me + "', 5000, 42, now())");

        Api.Response mine = Api.call("GET", "/providers/me", null, token);
        assertThat(mine.status()).isEqualTo(200);
        assertThat(mine.body().get("gpu")).hasSize(1);
        assertThat(mine.body().at("/gpu/0/askPerGpuSecond").asText()).isEqualTo("9");
        assertThat(mine.body().at("/gpu/0/samplesPerSecond").asDouble()).as("an update without a benchmark keeps the measured speed").isEqualTo(4200.5);
        assertThat(mine.body().at("/data/0/labelHistogram/1").asLong()).isEqualTo(20);
        assertThat(mine.body().at("/bond/amount").asText()).isEqualTo("5000");
        assertThat(mine.body().at("/bond/blockNumber").asLong()).isEqualTo(42);

        Api.Response other = Api.call("GET", "/providers/me", null, Api.token(Api.address(Api.newKey()).toLowerCase(), Role.PROVIDER));
        assertThat(other.body().get("gpu")).isEmpty();
        assertThat(other.body().get("bond").isNull()).isTrue();
    }

    @Test
    void badOffersAreRefusedAndBuildersCannotRegister() throws Exception {
        String me = Api.address(Api.newKey()).toLowerCase();
        String token = Api.token(me, Role.PROVIDER);
        Map<String, Object> negative = gpu();
        negative.put("askPerGpuSecond", "-1");
        assertThat(Api.call("POST", "/providers/gpu", Api.json(negative), token).code()).isEqualTo("invalid_gpu_provider");
        for (Object speed : List.of(0, -5, 1e9, "fast")) {
            Map<String, Object> badSpeed = gpu();
            badSpeed.put("samplesPerSecond", speed);
            Api.Response bs = Api.call("POST", "/providers/gpu", Api.json(badSpeed), token);
            assertThat(bs.status()).as("samplesPerSecond " + speed).isIn(400, 422);
            assertThat(bs.body().toString()).contains("samplesPerSecond");
        }
        Map<String, Object> badSum = data();
        badSum.put("sampleCount", 31);
        Api.Response r = Api.call("POST", "/providers/data", Api.json(badSum), token);
        assertThat(r.status()).isEqualTo(422);
        assertThat(r.body().get("error").asText()).contains("sum to 30");
        Map<String, Object> badRoot = data();
        badRoot.put("datasetRoot", "0x1234");
        assertThat(Api.call("POST", "/providers/data", Api.json(badRoot), token).status()).isEqualTo(422);
        assertThat(Api.call("POST", "/providers/gpu", Api.json(gpu()), Api.token(me, Role.BUILDER)).status()).isEqualTo(403);
        assertThat(Seed.one("select count(*) from gpu_providers where owner = '" + me + "'")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from data_providers where owner = '" + me + "'")).isEqualTo("0");
    }

    @Test
    void overflowingCountsDenormalSpeedsControlCharactersAndUnknownSourceFieldsAreRefused() throws Exception {
        String me = Api.address(Api.newKey()).toLowerCase();
        String token = Api.token(me, Role.PROVIDER);
        // two Long.MAX_VALUE counts + 102 wrap around to 100 in long arithmetic
        Map<String, Object> overflow = data();
        overflow.put("sampleCount", 100);
        overflow.put("labelHistogram", Map.of("0", Long.MAX_VALUE, "1", Long.MAX_VALUE, "2", 102));
        Api.Response o = Api.call("POST", "/providers/data", Api.json(overflow), token);
        assertThat(o.status()).as(o.body().toString()).isEqualTo(422);
        assertThat(o.body().get("error").asText()).contains("sum to 18446744073709551716");
        Map<String, Object> nul = data();
        nul.put("labelHistogram", Map.of("0\u0000", 10, "1", 20));
        assertThat(Api.call("POST", "/providers/data", Api.json(nul), token).code()).isEqualTo("bad_character");
        Map<String, Object> tab = data();
        tab.put("labelHistogram", Map.of("0 ", 10, "1", 20));
        assertThat(Api.call("POST", "/providers/data", Api.json(tab), token).code()).isEqualTo("invalid_data_provider");
        Map<String, Object> inf = data();
        inf.put("source", Map.of("dataset", "fashion-mnist", "partition", "dirichlet:" + "9".repeat(400), "clients", 5, "client", 0, "partitionSeed", 1));
        Api.Response i = Api.call("POST", "/providers/data", Api.json(inf), token);
        assertThat(i.status()).isEqualTo(422);
        assertThat(i.body().get("error").asText()).contains("source.partition");
        Map<String, Object> extra = data();
        extra.put("source", Map.of("dataset", "fashion-mnist", "partition", "iid", "clients", 5, "client", 0, "partitionSeed", 1, "shard", 3));
        Api.Response e = Api.call("POST", "/providers/data", Api.json(extra), token);
        assertThat(e.code()).isEqualTo("unknown_field");
        assertThat(e.body().get("details").get("field").asText()).isEqualTo("source.shard");
        for (Object speed : List.of(4.9e-324, 1e-10, 0.0)) {
            Map<String, Object> g = gpu();
            g.put("samplesPerSecond", speed);
            Api.Response r = Api.call("POST", "/providers/gpu", Api.json(g), token);
            assertThat(r.status()).as("samplesPerSecond " + speed).isEqualTo(422);
        }
        assertThat(Api.call("POST", "/providers/gpu", "null", token).code()).isEqualTo("body_not_object");
        assertThat(Api.call("POST", "/providers/data", "null", token).code()).isEqualTo("body_not_object");
        assertThat(Seed.one("select count(*) from gpu_providers where owner = '" + me + "'")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from data_providers where owner = '" + me + "'")).isEqualTo("0");
    }

    @Test
    void aPrivateDataOfferNamesTheWorkersThatHoldItAndNothingElseOfTheData() throws Exception {
        String me = Api.address(Api.newKey()).toLowerCase();
        String token = Api.token(me, Role.PROVIDER);
        String w = Api.address(Api.newKey());
        Map<String, Object> offer = data();
        offer.put("source", Map.of("dataset", "private:1x28x28:10", "workers", List.of(w)));
        Api.Response ok = Api.call("POST", "/providers/data", Api.json(offer), token);
        assertThat(ok.status()).as(ok.body().toString()).isEqualTo(201);
        assertThat(ok.body().get("source").get("workers").get(0).asText()).isEqualTo(w.toLowerCase());
        assertThat(ok.body().get("source").get("partition").asText()).as("one whole shard").isEqualTo("iid");
        assertThat(Seed.one("select source from data_providers where owner = '" + me + "'")).contains("\"workers\":[\"" + w.toLowerCase() + "\"]")
                .contains("private:1x28x28:10");

        record Bad(Map<String, Object> source, String field) {
        }
        for (Bad b : List.of(new Bad(Map.of("dataset", "private:1x28x28:10"), "source.workers"),
                new Bad(Map.of("dataset", "private:1x28x28:10", "workers", List.of("alice")), "source.workers"),
                new Bad(Map.of("dataset", "private:1x28x28:10", "workers", List.of(w, w.toLowerCase())), "source.workers"),
                new Bad(Map.of("dataset", "private:1x28x28:10", "workers", List.of(w), "partition", "shards:2"), "source.partition"),
                new Bad(Map.of("dataset", "private:28x28:10", "workers", List.of(w)), "source.dataset"),
                new Bad(Map.of("dataset", "fashion-mnist", "partition", "iid", "clients", 5, "client", 0, "partitionSeed", 1, "workers", List.of(w)), "source.workers"))) {
            Map<String, Object> o = data();
            o.put("name", "bad-" + Math.abs(b.hashCode()));
            o.put("source", b.source());
            Api.Response r = Api.call("POST", "/providers/data", Api.json(o), token);
            assertThat(r.status()).as(b.toString()).isEqualTo(422);
            assertThat(r.body().toString()).as(b.toString()).contains(b.field());
        }
        assertThat(Seed.one("select count(*) from data_providers where owner = '" + me + "'")).as("only the good offer").isEqualTo("1");
    }
}
