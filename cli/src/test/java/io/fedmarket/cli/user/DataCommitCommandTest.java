package io.fedmarket.cli.user;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.cli.Mkt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code mkt data commit}: the commitment and the offer are written, and only the commitment is in the offer. */
class DataCommitCommandTest {
    record Run(int code, String out, String err) {
    }

    static Run mkt(String... args) {
        CommandLine cl = Mkt.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void aCsvDataSetIsCommittedAndItsOfferCarriesOnlyTheCommitment(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("patients.csv");
        StringBuilder b = new StringBuilder("age,bp,cholesterol,outcome\n");
        for (int i = 0; i < 40; i++) {
            b.append(30 + i).append(',').append(110 + i % 7).append(',').append(4.5 + i * 0.05).append(',').append(i % 3 == 0 ? "sick" : "well").append('\n');
        }
        Files.writeString(csv, b);
        String worker = "0x" + "12".repeat(20);
        Run r = mkt("data", "commit", csv.toString(), "--format", "csv", "--label", "outcome", "--domain", "cardiology", "--worker", worker);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("committed 40 samples (csv, shape 3, 2 classes)").contains("offer it: mkt providers data");
        assertThat(r.err()).contains("read 40 of 40 samples");
        JsonNode offer = new ObjectMapper().readTree(dir.resolve(".fedmarket/patients.csv/offer.json").toFile());
        List<String> fields = new ArrayList<>();
        offer.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactly("name", "domain", "region", "sampleCount", "labelHistogram", "datasetRoot", "source");
        // a private source: the samples' shape and classes and the worker keys that hold the data, nothing of the data itself
        assertThat(offer.get("source").toString()).isEqualTo("{\"dataset\":\"private:3:2\",\"workers\":[\"" + worker + "\"]}");
        assertThat(offer.get("name").asText()).isEqualTo("patients");
        assertThat(offer.get("sampleCount").asLong()).isEqualTo(40);
        assertThat(offer.get("labelHistogram").toString()).isEqualTo("{\"sick\":14,\"well\":26}");
        assertThat(offer.get("datasetRoot").asText()).matches("0x[0-9a-f]{64}")
                .isEqualTo(new ObjectMapper().readTree(dir.resolve(".fedmarket/patients.csv/commitment.json").toFile()).get("datasetRoot").asText());
        // no sample value is in the offer
        assertThat(Files.readString(dir.resolve(".fedmarket/patients.csv/offer.json"))).doesNotContain("110").doesNotContain("4.55");
    }

    @Test
    void aBadDataSetFailsWithEveryProblemAndWritesNothing(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "x,y\n1,a\n2\n");
        Run r = mkt("data", "commit", csv.toString(), "--format", "csv", "--label", "y");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("nothing was committed").contains(csv + ":3: 1 fields, the header has 2");
        assertThat(dir.resolve(".fedmarket")).doesNotExist();
        assertThat(mkt("data", "commit", dir.toString(), "--format", "parquet").err()).contains("--format 'parquet' is not a format: use one of [imagefolder, csv, idx]");
        assertThat(mkt("data", "commit", dir.resolve("nope").toString(), "--format", "idx").err()).contains("no such file or folder");
        assertThat(mkt("data", "commit", dir.toString(), "--format", "imagefolder", "--shape", "3x32").err()).contains("C = 1 (grey) or 3 (RGB)");
    }
}
