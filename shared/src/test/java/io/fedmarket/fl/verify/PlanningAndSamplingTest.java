package io.fedmarket.fl.verify;

import io.fedmarket.fl.proof.Hashes;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PlanningAndSamplingTest {
    private static final byte[] SUB = Hashes.keccak("submission".getBytes());
    private static final byte[] BLOCK = Hashes.keccak("block 1234".getBytes());

    @Test
    void qFromTargetDetection() {
        assertThat(DetectionPlanner.segmentsFor(0.1, 0.99)).isEqualTo(44); // ln 0.01 / ln 0.9 = 43.7
        assertThat(DetectionPlanner.segmentsFor(0.5, 0.99)).isEqualTo(7);  // 0.5^7 = 0.0078
        assertThat(DetectionPlanner.segmentsFor(1.0, 0.99)).isEqualTo(1);
        assertThat(DetectionPlanner.detectionProbability(0.1, 44)).isGreaterThanOrEqualTo(0.99);
        assertThat(DetectionPlanner.detectionProbability(0.1, 43)).isLessThan(0.99);
        // without replacement it never needs more
        int exact = DetectionPlanner.segmentsFor(0.1, 0.99, 1000);
        assertThat(exact).isLessThanOrEqualTo(44).isGreaterThan(40);
        assertThat(DetectionPlanner.detectionProbability(1000, 100, exact)).isGreaterThanOrEqualTo(0.99);
        assertThat(DetectionPlanner.detectionProbability(1000, 100, exact - 1)).isLessThan(0.99);
        // 4 segments, 2 faked, draw 2: miss only if both draws are honest = 1/C(4,2)
        assertThat(DetectionPlanner.detectionProbability(4, 2, 2)).isCloseTo(1 - 1.0 / 6, within(1e-12));
        assertThat(DetectionPlanner.segmentsFor(0.1, 0.99, 10)).isEqualTo(10);
        assertThatThrownBy(() -> DetectionPlanner.segmentsFor(0, 0.99)).hasMessageContaining("faked fraction");
        assertThatThrownBy(() -> DetectionPlanner.segmentsFor(0.1, 1)).hasMessageContaining("target detection");
    }

    @Test
    void samplingIsDeterministicDistinctAndDependsOnTheLaterBlock() {
        byte[] seed = SegmentSampler.seed(SUB, BLOCK);
        int[] a = SegmentSampler.sample(seed, 1000, 44);
        assertThat(SegmentSampler.sample(seed, 1000, 44)).containsExactly(a);
        assertThat(Arrays.stream(a).distinct().count()).isEqualTo(44);
        assertThat(Arrays.stream(a).allMatch(i -> i >= 0 && i < 1000)).isTrue();
        int[] other = SegmentSampler.sample(SegmentSampler.seed(SUB, Hashes.keccak("block 1235".getBytes())), 1000, 44);
        assertThat(other).isNotEqualTo(a);
        int[] all = SegmentSampler.sample(seed, 7, 7);
        assertThat(Arrays.stream(all).sorted().toArray()).containsExactly(0, 1, 2, 3, 4, 5, 6);
        // the first draw is uint256(keccak(seed ‖ uint64 0)) mod n: replayable by anyone
        int first = new java.math.BigInteger(1, Hashes.keccak(seed, Hashes.u64(0)))
                .mod(java.math.BigInteger.valueOf(1000)).intValue();
        assertThat(a[0]).isEqualTo(first);
        assertThatThrownBy(() -> SegmentSampler.sample(seed, 5, 6)).hasMessageContaining("cannot draw 6");
        assertThatThrownBy(() -> SegmentSampler.seed(SUB, new byte[3])).hasMessageContaining("block hash");
    }

    @Test
    void drawsAreRoughlyUniform() {
        int[] hits = new int[10];
        for (int s = 0; s < 2000; s++) {
            hits[SegmentSampler.sample(Hashes.keccak(Hashes.u64(s)), 10, 1)[0]]++;
        }
        assertThat(Arrays.stream(hits).allMatch(h -> h > 150 && h < 250)).as(Arrays.toString(hits)).isTrue();
    }

    @Test
    void sampledDetectionMatchesThePlannedProbabilityForAPartialFaker() {
        // a worker that faked the last 10% of 1000 segments, q planned for f = 0.1 at 99%
        int n = 1000;
        int q = DetectionPlanner.segmentsFor(0.1, 0.99, n);
        double planned = DetectionPlanner.detectionProbability(n, 100, q);
        int caught = 0;
        int trials = 3000;
        for (int s = 0; s < trials; s++) {
            int[] drawn = SegmentSampler.sample(SegmentSampler.seed(Hashes.keccak(Hashes.u64(s)), BLOCK), n, q);
            if (Arrays.stream(drawn).anyMatch(i -> i >= 900)) {
                caught++;
            }
        }
        assertThat((double) caught / trials).isCloseTo(planned, within(0.006));
        assertThat(planned).isGreaterThanOrEqualTo(0.99);
    }
}
