package io.fedmarket.fl.verify;

import io.fedmarket.fl.proof.Hashes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VerdictTest {
    static Verdict rejection() {
        return new Verdict("r1-s2-a0", "0xabc", false, ReasonCode.SEGMENT_MISMATCH, List.of(ReasonCode.LOW_SIMILARITY_TO_CENTRE),
                List.of(17, 3), 1, "bit-exact", null,
                new Evidence(17, "0x01", "0x02", List.of("s3://b/c/17", "s3://b/c/18"), null, null, "mismatch"),
                1_700_000_000L);
    }

    @Test
    void canonicalJsonHasSortedKeysAndHashesToTheEvidenceHash() {
        Verdict v = rejection();
        String json = v.canonicalJson();
        assertThat(json).startsWith("{\"accepted\":false,\"calibration\":null,\"comparison\":\"bit-exact\","
                + "\"decidedAtEpochSecond\":1700000000,\"evidence\":{\"artifactUris\":[\"s3://b/c/17\",\"s3://b/c/18\"],");
        assertThat(json).doesNotContain(" ").doesNotContain("\n");
        assertThat(v.evidenceHash()).isEqualTo(Hashes.hex(Hashes.keccak(json.getBytes(StandardCharsets.UTF_8))));
        assertThat(Verdict.fromJson(json).canonicalJson()).isEqualTo(json);
        Verdict other = new Verdict(v.taskId(), v.submissionHash(), false, v.reason(), v.flags(), v.sampledSegments(),
                v.reexecutedSegments(), v.comparison(), null,
                new Evidence(18, "0x01", "0x02", v.evidence().artifactUris(), null, null, "mismatch"),
                v.decidedAtEpochSecond());
        assertThat(other.evidenceHash()).isNotEqualTo(v.evidenceHash());
    }

    @Test
    void verdictIsInternallyConsistent() {
        assertThatThrownBy(() -> new Verdict("t", "0x", false, ReasonCode.SEGMENT_MISMATCH, List.of(), List.of(), 0,
                "bit-exact", null, null, 0)).hasMessageContaining("needs evidence");
        assertThatThrownBy(() -> new Verdict("t", "0x", true, ReasonCode.TRAIL_BROKEN, List.of(), List.of(), 0,
                "bit-exact", null, null, 0)).hasMessageContaining("contradicts");
    }

    @Test
    void rejectionBecomesSlashableOnlyAfterTheDisputeWindow() {
        Verdict v = rejection();
        Duration w = Duration.ofHours(24);
        Instant decided = Instant.ofEpochSecond(v.decidedAtEpochSecond());
        assertThat(DisputeWindow.windowEnd(v, w)).isEqualTo(decided.plus(w));
        assertThat(DisputeWindow.status(v, w, decided, false)).isEqualTo(DisputeWindow.SlashStatus.IN_WINDOW);
        assertThat(DisputeWindow.status(v, w, decided.plus(w).minusSeconds(1), false))
                .isEqualTo(DisputeWindow.SlashStatus.IN_WINDOW);
        assertThat(DisputeWindow.status(v, w, decided.plus(w), false)).isEqualTo(DisputeWindow.SlashStatus.SLASHABLE);
        assertThat(DisputeWindow.status(v, w, decided.plus(w), true)).isEqualTo(DisputeWindow.SlashStatus.DISPUTED);
        Verdict ok = new Verdict("t", "0x", true, ReasonCode.ACCEPTED, List.of(), List.of(1), 1, "bit-exact", null, null, 5);
        assertThat(DisputeWindow.status(ok, w, decided.plus(w), false)).isEqualTo(DisputeWindow.SlashStatus.NOT_REJECTED);
        assertThatThrownBy(() -> DisputeWindow.windowEnd(v, Duration.ofSeconds(-1))).hasMessageContaining("non-negative");
    }

    @Test
    void cheapChecksFlagButOnlyStructuralCodesReject() {
        CheapCheckPolicy p = new CheapCheckPolicy(0.1, 10.0, 0.5, 3.0, 1.0);
        float[] g = {0f, 0f};
        float[] centre = {1f, 0f};
        assertThat(p.flags(new float[] {1f, 0.1f}, g, centre, 0.5)).isEmpty();
        assertThat(p.flags(new float[] {0f, 0f}, g, centre, 0.5)).contains(ReasonCode.NORM_OUT_OF_BOUNDS);
        assertThat(p.flags(new float[] {-1f, 0f}, g, centre, 0.5)).contains(ReasonCode.LOW_SIMILARITY_TO_CENTRE);
        assertThat(p.flags(new float[] {5f, 0f}, g, centre, 0.5)).containsExactly(ReasonCode.FAR_FROM_CENTRE);
        assertThat(p.flags(new float[] {1f, 0f}, g, centre, 2.0)).containsExactly(ReasonCode.HIGH_VALIDATION_LOSS);
        assertThat(p.flags(new float[] {1f, 0f}, g, null, null)).isEmpty();
        for (ReasonCode c : p.flags(new float[] {-20f, 0f}, g, centre, 9.0)) {
            assertThat(c.rejecting()).isFalse();
        }
        assertThat(ReasonCode.SEGMENT_MISMATCH.rejecting()).isTrue();
    }

    @Test
    void calibrationRecordsHowTheThresholdWasSet() {
        ToleranceCalibration c = ToleranceCalibration.fromSamples(new double[] {1e-7, 3e-7, 2e-7}, 100, 1e-6, "test");
        assertThat(c.maxObserved()).isEqualTo(3e-7);
        assertThat(c.threshold()).isCloseTo(3e-5, org.assertj.core.api.Assertions.within(1e-18));
        assertThat(ToleranceCalibration.fromSamples(new double[] {0}, 100, 1e-6, "x").threshold()).isEqualTo(1e-6);
        assertThatThrownBy(() -> ToleranceCalibration.fromSamples(new double[0], 100, 1e-6, "x"))
                .hasMessageContaining("measure");
    }
}
