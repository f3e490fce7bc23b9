package io.fedmarket.functions.rounds;

import io.fedmarket.fl.proof.Hashes;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The draw of a segment's re-executor: never the submitter or an excluded worker, reproducible, and spread evenly. */
class ReexecutorDrawTest {
    static final String A = "0x00000000000000000000000000000000000000aa";
    static final String B = "0x00000000000000000000000000000000000000bb";
    static final String C = "0x00000000000000000000000000000000000000cc";
    static final String D = "0x00000000000000000000000000000000000000dd";
    static final String BLOCK = "0x" + "11".repeat(32);
    static final String SUBMISSION = "0x" + "22".repeat(32);

    @Test
    void neverTheSubmitterNorAnExcludedWorkerAndNobodyWhenNoneIsLeft() {
        for (int i = 0; i < 200; i++) {
            String who = Verification.assign(List.of(A, B, C, D), List.of(B), A, Verification.drawSeed(BLOCK, SUBMISSION, "t-seg" + i));
            assertThat(who).isIn(C, D);
        }
        assertThat(Verification.assign(List.of(A, B), List.of("0x" + B.substring(2).toUpperCase()), A, new byte[32]))
                .as("exclusions in any case; only the submitter and the excluded are left").isNull();
        assertThat(Verification.assign(List.of(), List.of(), A, new byte[32])).isNull();
    }

    @Test
    void theSameInputsDrawTheSameWorkerWhateverThePoolOrder() {
        byte[] seed = Verification.drawSeed(BLOCK, SUBMISSION, "t-seg3");
        assertThat(Verification.assign(List.of(D, C, B), List.of(), A, seed)).isEqualTo(Verification.assign(List.of(B, C, D), List.of(), A, seed));
        // the seed is keccak(block hash ‖ submission hash ‖ request id): the block was mined after the submission was recorded
        assertThat(seed).isEqualTo(Hashes.keccak(Hashes.fromHex(BLOCK), Hashes.fromHex(SUBMISSION), "t-seg3".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(Verification.drawSeed("0x" + "12".repeat(32), SUBMISSION, "t-seg3")).isNotEqualTo(seed);
    }

    @Test
    void everyEligibleWorkerIsDrawnAboutEquallyOften() {
        Map<String, Integer> n = new HashMap<>();
        int draws = 3000;
        for (int i = 0; i < draws; i++) {
            n.merge(Verification.assign(List.of(A, B, C, D), List.of(), A, Verification.drawSeed(BLOCK, SUBMISSION, "t-seg" + i)), 1, Integer::sum);
        }
        assertThat(n).containsOnlyKeys(B, C, D);
        // 1000 expected each; 5 standard deviations (sqrt(3000 · 1/3 · 2/3) ≈ 25.8) either way
        assertThat(n.values()).allSatisfy(v -> assertThat(v).isBetween(870, 1130));
    }
}
