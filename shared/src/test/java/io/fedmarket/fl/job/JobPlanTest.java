package io.fedmarket.fl.job;

import io.fedmarket.fl.verify.DetectionPlanner;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JobPlanTest {
    static JobPlan plan(JobPlan.Training t, JobPlan.Verification v, int epochs) {
        return JobPlan.of("mlp", t, v, epochs, "fedavg", false, null, null, 10, 600, UUID.fromString("00000000-0000-0000-0000-000000000001"));
    }

    @Test
    void segmentsAreSizedSoThatQOfThemStayWithinTheReexecutionShare() {
        // f = 0.5, p = 0.99: q = 7 with replacement, so 140 segments keep q within 5%
        JobPlan p = plan(null, null, 10);
        JobPlan.TaskShape s = p.shape(6400); // 10 epochs of 100 batches of 64 = 1000 steps
        assertThat(s.segments()).isBetween(140, 167);
        assertThat(s.steps() % s.checkpointEvery()).isZero();
        assertThat(s.steps()).isBetween(1000 - s.checkpointEvery(), 1000);
        assertThat(s.q()).isEqualTo(DetectionPlanner.segmentsFor(0.5, 0.99, s.segments()));
        assertThat(s.reexecShare()).isLessThanOrEqualTo(0.05);
        assertThat(DetectionPlanner.detectionProbability(s.segments(), s.segments() / 2, s.q())).isGreaterThanOrEqualTo(0.99);
        assertThat(s.escalatedQ()).isEqualTo(2 * s.q());
    }

    @Test
    void aTaskTooShortForTheShareCheckpointsEveryStepAndSaysSoThroughItsShare() {
        JobPlan p = plan(new JobPlan.Training(null, null, null, 60, null, null, null), null, 1);
        JobPlan.TaskShape s = p.shape(10_000);
        assertThat(s.steps()).isEqualTo(60);
        assertThat(s.checkpointEvery()).isEqualTo(1);
        assertThat(s.segments()).isEqualTo(60);
        assertThat(s.reexecShare()).isGreaterThan(0.05);
    }

    @Test
    void aCapOnRevealedSamplesShortensSegmentsAndTermsThatCannotMeetItAreRefusedSayingWhatToRelax() {
        JobPlan.Training t = new JobPlan.Training(null, null, null, 600, null, null, null);
        JobPlan open = plan(t, null, 1);
        JobPlan.TaskShape free = open.shape(10_000);
        // f = 0.5, p = 0.99: q = 7; 140 segments of 4 steps: a flagged update shows 14 × 4 × 64 = 3,584 samples
        assertThat(open.revealedPerUpdate(free, 10_000, true)).isEqualTo(3584);
        assertThat(open.revealedPerUpdate(free, 10_000, false)).isEqualTo((long) free.q() * 4 * 64);
        assertThat(open.revealedPerUpdate(free, 1_000, true)).as("at most the shard").isEqualTo(1_000);

        JobPlan capped = plan(t, new JobPlan.Verification(null, null, null, null, null, null, 2000), 1);
        assertThat(capped.maxRevealedSamples()).isEqualTo(2000);
        JobPlan.TaskShape s = capped.shape(10_000);
        assertThat(s.checkpointEvery()).isEqualTo(2);
        assertThat(capped.revealedPerUpdate(s, 10_000, true)).isLessThanOrEqualTo(2000).isEqualTo(2L * s.q() * 2 * 64);
        assertThat(s.reexecShare()).isLessThanOrEqualTo(0.05);
        assertThat(DetectionPlanner.detectionProbability(s.segments(), s.segments() / 2, s.q())).isGreaterThanOrEqualTo(0.99);
        // the tightest cap that one-step segments meet: 2q batches
        JobPlan.TaskShape tight = plan(t, new JobPlan.Verification(null, null, null, null, null, null, 896), 1).shape(10_000);
        assertThat(tight.checkpointEvery()).isEqualTo(1);

        assertThatThrownBy(() -> plan(t, new JobPlan.Verification(null, null, null, null, null, null, 500), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("verification.maxRevealedSamples 500 cannot be met")
                .hasMessageContaining("Raise maxRevealedSamples to 896, lower training.batchSize to 35, or lower verification.targetDetection");
        assertThat(new JobPlan.Verification(null, null, null, null, null, null, 0).problems()).extracting(x -> x[0])
                .containsExactly("verification.maxRevealedSamples");
    }

    @Test
    void catchingAWholeFakedTaskNeedsOneSegmentOfTwenty() {
        JobPlan p = plan(new JobPlan.Training(null, null, null, 60, null, null, null), new JobPlan.Verification(0.99, 1.0, 0.05, null, null), 1);
        JobPlan.TaskShape s = p.shape(5000);
        assertThat(s.q()).isEqualTo(1);
        assertThat(s.segments()).isEqualTo(20);
        assertThat(s.checkpointEvery()).isEqualTo(3);
    }

    @Test
    void defaultsTheSeedAndFedProxMu() {
        JobPlan p = plan(null, null, 1);
        assertThat(p.batchSize()).isEqualTo(64);
        assertThat(p.threads()).isEqualTo(1);
        assertThat(p.bitExact()).isTrue();
        assertThat(p.seed()).isEqualTo(JobPlan.jobSeed(UUID.fromString("00000000-0000-0000-0000-000000000001")));
        assertThat(p.taskSeed(2, 3)).isNotEqualTo(p.taskSeed(3, 2));
        JobPlan prox = JobPlan.of("mlp", null, null, 1, "fedprox", false, null, null, 10, 600, UUID.randomUUID());
        assertThat(prox.proxMu()).isEqualTo(JobPlan.DEFAULT_FEDPROX_MU);
    }

    @Test
    void dpNoiseSpendsAtMostTheIntentsEpsilon() {
        double sigma = JobPlan.noiseMultiplierFor(2.0, 1e-5, 10);
        double spent = new io.fedmarket.fl.privacy.RdpAccountant().step(1, sigma, 10).epsilon(1e-5).epsilon();
        assertThat(spent).isLessThanOrEqualTo(2.0);
        double lessNoise = new io.fedmarket.fl.privacy.RdpAccountant().step(1, sigma - 0.01, 10).epsilon(1e-5).epsilon();
        assertThat(lessNoise).as("the smallest such sigma").isGreaterThan(2.0);
        JobPlan p = JobPlan.of("cnn", null, null, 1, "fedavg", true, 2.0, 1e-5, 10, 600, UUID.randomUUID());
        assertThat(p.dpClip()).isEqualTo(JobPlan.DEFAULT_DP_CLIP);
        assertThat(p.dpNoiseMultiplier()).isEqualTo(sigma);
    }

    @Test
    void badTermsSayWhichFieldAndWhatToSend() {
        assertThat(new JobPlan.Training(0, -1.0, 1.0, 0, null, 0, null).problems()).extracting(x -> x[0])
                .containsExactly("training.batchSize", "training.learningRate", "training.momentum", "training.localSteps", "training.threads");
        assertThat(new JobPlan.Verification(1.0, 0.0, null, "fuzzy", null).problems()).extracting(x -> x[0])
                .containsExactly("verification.targetDetection", "verification.fakedFraction", "verification.comparison");
        assertThat(new JobPlan.Verification(null, null, null, "tolerance", 2.0).problems().get(0)[1]).contains("calibrated relative L2 threshold");
        assertThat(new JobPlan.Verification(null, null, null, "tolerance", null).problems()).as("none: the shipped calibration").isEmpty();
        // the shape and classes travel in the spec; the defaults are left out (the specs of before)
        assertThat(JobPlan.modelSpecFor("CNN", List.of(3, 32, 32), 10)).isEqualTo("cnn;input=3x32x32");
        assertThat(JobPlan.modelSpecFor("CNN", List.of(28, 28), 10)).isEqualTo("cnn");
        assertThat(JobPlan.modelSpecFor("MLP", List.of(1, 28, 28), 10)).isEqualTo("mlp");
        assertThat(JobPlan.modelSpecFor("mlp:64,32", List.of(20), 3)).isEqualTo("mlp:64,32;input=20;classes=3");
        assertThat(JobPlan.modelSpecFor("RESNET", List.of(1, 28, 28), 10)).isEqualTo("resnet:20");
        assertThat(JobPlan.modelSpecFor("resnet:18", List.of(3, 64, 64), 100)).isEqualTo("resnet:18;input=3x64x64;classes=100");
        assertThatThrownBy(() -> JobPlan.modelSpecFor("CNN", List.of(20), 10)).hasMessageContaining("needs an image input CxHxW");
        assertThatThrownBy(() -> JobPlan.modelSpecFor("resnet:19", List.of(1, 28, 28), 10)).hasMessageContaining("6n+2");
        assertThatThrownBy(() -> JobPlan.modelSpecFor("vit", List.of(1, 28, 28), 10)).hasMessageStartingWith("unknown model spec");
        assertThatThrownBy(() -> JobPlan.modelSpecFor("MLP", List.of(1, 2, 3, 4), 10)).hasMessageContaining("give [features]");
        assertThat(JobPlan.modelSpecFor("CNN", List.of(1, 28, 28), 10)).isEqualTo("cnn");
        assertThat(JobPlan.modelSpecFor("MLP", List.of(784), 10)).isEqualTo("mlp");
    }

    @Test
    void theRoundQuorumAndTheRuleWithItsParametersComeFromTheIntent() {
        JobPlan every = plan(null, null, 1);
        assertThat(every.minUpdatesFor(10)).as("left out: every task").isEqualTo(10);
        JobPlan seven = JobPlan.of("mlp", new JobPlan.Training(null, null, null, null, null, null, null, 7), null, 1, "multi-krum",
                java.util.Map.of("f", 1, "m", 3), false, null, null, 10, 600, UUID.randomUUID());
        assertThat(seven.minUpdatesFor(10)).isEqualTo(7);
        assertThat(seven.minUpdatesFor(4)).as("never more than the tasks").isEqualTo(4);
        assertThat(seven.aggregationRule().name()).contains("krum");
        // the plan survives its JSON round trip (it is stored with the job), parameters included
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        JobPlan back;
        try {
            back = om.readValue(om.writeValueAsString(seven), JobPlan.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
        assertThat(back).isEqualTo(seven);
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> JobPlan.of("mlp", null, null, 1, "multi-krum", null, false, null, null, 10, 600,
                UUID.randomUUID()).aggregationRule())).hasMessageContaining("multi-krum needs parameter m");
        assertThat(new JobPlan.Verification(null, null, null, null, null, new JobPlan.ValidationSplit("fashion-mnist-test", 8, null)).problems())
                .extracting(x -> x[0]).containsExactly("verification.validation.samples");
    }

    @Test
    void toleranceLeftOutIsTheModelsShippedCalibrationAndTheVerdictsSaySo() {
        io.fedmarket.fl.verify.ToleranceCalibration mlp = io.fedmarket.fl.verify.Calibrations.forModel("mlp").orElseThrow();
        assertThat(mlp.samples()).isGreaterThanOrEqualTo(16);
        assertThat(mlp.threshold()).isEqualTo(Math.max(mlp.floor(), mlp.maxObserved() * mlp.safetyFactor()));
        assertThat(mlp.method()).contains("1 vs 2 intra-op threads").contains("measured 20");
        JobPlan calibrated = JobPlan.of("mlp", null, new JobPlan.Verification(null, null, null, "tolerance", null), 1, "fedavg", false, null, null,
                10, 600, UUID.randomUUID());
        assertThat(calibrated.tolerance()).isEqualTo(mlp.threshold());
        assertThat(calibrated.toleranceCalibration()).isEqualTo(mlp);
        JobPlan own = JobPlan.of("mlp", null, new JobPlan.Verification(null, null, null, "tolerance", 0.01), 1, "fedavg", false, null, null,
                10, 600, UUID.randomUUID());
        assertThat(own.toleranceCalibration().method()).contains("builder's intent");
        assertThat(plan(null, null, 1).toleranceCalibration()).as("bit-exact").isNull();
        assertThatThrownBy(() -> JobPlan.of("mlp:32", null, new JobPlan.Verification(null, null, null, "tolerance", null), 1, "fedavg", false,
                null, null, 10, 600, UUID.randomUUID())).hasMessageContaining("no calibration is shipped for model mlp:32");
    }
}
