package io.fedmarket.fl.verify;

import io.fedmarket.fl.cheat.Cheats;
import io.fedmarket.fl.cheat.ForgedWork;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.fl.proof.ProofTrail;
import io.fedmarket.fl.proof.TrailHeader;
import io.fedmarket.fl.sim.FederatedSimulation;
import io.fedmarket.fl.sim.LocalTrainer;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The verification policy against real (plain-Java) training. */
class UpdateVerifierTest {
    static final FederatedSimulation SIM = new FederatedSimulation(new FederatedSimulation.Config(4, 8, 1, 10, 4, 800,
            200, 0.8, 1.0, 40, 2, 16, 0.05f, 0, "fedavg", Map.of(), 0.25, 0.99, 0.5, 1, true, 5));
    static final float[] GLOBAL = new float[SIM.model().size()];
    static final byte[] BLOCK = Hashes.keccak("later block".getBytes());

    static LocalTrainer.Task task(String id) {
        return SIM.task(id, GLOBAL, 1, 77);
    }

    static UpdateVerifier.CheckpointStore store(List<float[]> cps) {
        return new UpdateVerifier.CheckpointStore() {
            @Override
            public float[] load(int i) {
                return i < cps.size() ? cps.get(i) : null;
            }

            @Override
            public String uri(int i) {
                return "mem://cp/" + i;
            }
        };
    }

    static UpdateVerifier.Outcome verify(UpdateVerifier v, LocalTrainer.Task t, ForgedWork w) {
        byte[] sub = Hashes.keccak(t.header().hash(), w.trail().commitment());
        return v.verify(new UpdateVerifier.Submission(t.header(), sub, w.update(), "mem://update", w.trail(),
                store(w.checkpoints())), GLOBAL, null, null, BLOCK, SIM.trainer().executor(t), Instant.ofEpochSecond(100));
    }

    static UpdateVerifier bitExact(int q) {
        return new UpdateVerifier(new UpdateVerifier.Config(CheapCheckPolicy.NONE, q, q, new ComparisonPolicy.BitExact()));
    }

    static ForgedWork honest(LocalTrainer.Task t, SplittableRandom kernel) {
        return Cheats.honest(t.header(), SIM.trainer().train(GLOBAL, t, t.header().segments(), kernel));
    }

    @Test
    void honestDeterministicWorkIsAcceptedBitExact() {
        LocalTrainer.Task t = task("t");
        UpdateVerifier.Outcome o = verify(bitExact(5), t, honest(t, null));
        assertThat(o.verdict().accepted()).isTrue();
        assertThat(o.verdict().reason()).isEqualTo(ReasonCode.ACCEPTED);
        assertThat(o.reexecutedSegments()).isEqualTo(5);
        assertThat(o.reexecutedSteps()).isEqualTo(10);
        assertThat(o.verdict().sampledSegments()).hasSize(5);
    }

    @Test
    void nonDeterministicKernelNeedsTheCalibratedToleranceNotBitExactness() {
        LocalTrainer.Task t = task("t");
        ForgedWork w = honest(t, new SplittableRandom(3));
        // its float32 rounding differs from the verifier's: bit-exact comparison would wrongly reject it
        assertThat(verify(bitExact(20), t, w).verdict().reason()).isEqualTo(ReasonCode.SEGMENT_MISMATCH);
        ToleranceCalibration cal = ToleranceCalibration.fromSamples(new double[] {1e-6}, 100, 1e-6, "test");
        UpdateVerifier tol = new UpdateVerifier(new UpdateVerifier.Config(CheapCheckPolicy.NONE, 20, 20,
                new ComparisonPolicy.Tolerance(cal)));
        UpdateVerifier.Outcome o = verify(tol, t, w);
        assertThat(o.verdict().accepted()).isTrue();
        assertThat(o.verdict().comparison()).isEqualTo("relative-l2");
        assertThat(o.verdict().calibration()).isEqualTo(cal);
    }

    @Test
    void segmentMismatchCarriesReproducibleEvidence() {
        LocalTrainer.Task t = task("t");
        ForgedWork w = Cheats.globalUnchanged(t.header(), GLOBAL);
        UpdateVerifier.Outcome o = verify(bitExact(5), t, w);
        Verdict v = o.verdict();
        assertThat(v.accepted()).isFalse();
        assertThat(v.reason()).isEqualTo(ReasonCode.SEGMENT_MISMATCH);
        int seg = v.evidence().segmentIndex();
        assertThat(seg).isEqualTo(v.sampledSegments().get(0));
        assertThat(o.reexecutedSegments()).isEqualTo(1); // stops at the first mismatch
        assertThat(v.evidence().gotHash()).isEqualTo(Hashes.hex(w.trail().checkpointHashes().get(seg + 1)));
        float[] redo = SIM.trainer().runSegment(w.checkpoints().get(seg), t, seg, null);
        assertThat(v.evidence().expectedHash()).isEqualTo(Hashes.hex(Hashes.paramsHash(redo)));
        assertThat(v.evidence().artifactUris()).containsExactly("mem://cp/" + seg, "mem://cp/" + (seg + 1));
        assertThat(v.evidenceHash()).startsWith("0x").hasSize(66);
    }

    @Test
    void structuralFaultsAreRejectedBeforeAnyReexecution() {
        LocalTrainer.Task t = task("t");
        ForgedWork good = honest(t, null);
        UpdateVerifier v = bitExact(5);

        float[] nan = good.update().clone();
        nan[0] = Float.NaN;
        assertThat(verify(v, t, new ForgedWork(nan, good.checkpoints(), good.trail())).verdict().reason())
                .isEqualTo(ReasonCode.NON_FINITE_UPDATE);

        LocalTrainer.Task other = SIM.task("other-task", GLOBAL, 1, 77);
        assertThat(verify(v, t, Cheats.honest(other.header(), good.checkpoints())).verdict().reason())
                .isEqualTo(ReasonCode.HEADER_MISMATCH);

        ProofTrail shortTrail = ProofTrail.build(t.header(), good.checkpoints().subList(0, 5));
        assertThat(verify(v, t, new ForgedWork(good.update(), good.checkpoints(), shortTrail)).verdict().reason())
                .isEqualTo(ReasonCode.TRAIL_LENGTH_MISMATCH);

        List<float[]> shifted = new ArrayList<>(good.checkpoints());
        shifted.set(0, good.update());
        assertThat(verify(v, t, Cheats.honest(t.header(), shifted)).verdict().reason())
                .isEqualTo(ReasonCode.START_NOT_GLOBAL_MODEL);

        UpdateVerifier.Outcome forged = verify(v, t, Cheats.forgedTrail(t.header(), good.checkpoints(), 1));
        assertThat(forged.verdict().reason()).isEqualTo(ReasonCode.TRAIL_BROKEN);
        assertThat(forged.verdict().evidence().segmentIndex()).isZero();
        assertThat(forged.reexecutedSteps()).isZero();

        float[] tweaked = good.update().clone();
        tweaked[0] += 1e-3f;
        assertThat(verify(v, t, new ForgedWork(tweaked, good.checkpoints(), good.trail())).verdict().reason())
                .isEqualTo(ReasonCode.UPDATE_NOT_IN_TRAIL);

        List<float[]> tampered = new ArrayList<>(good.checkpoints());
        for (int i = 1; i < tampered.size() - 1; i++) {
            float[] c = tampered.get(i).clone();
            c[1] += 1f;
            tampered.set(i, c);
        }
        UpdateVerifier all = bitExact(t.header().segments());
        UpdateVerifier.Outcome art = verify(all, t, new ForgedWork(good.update(), tampered, good.trail()));
        assertThat(art.verdict().reason()).isEqualTo(ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH);
        assertThat(art.verdict().evidence().detail()).contains("does not hash to the committed value");
    }

    @Test
    void cheapCheckFlagsEscalateTheNumberOfSegments() {
        LocalTrainer.Task t = task("t");
        ForgedWork good = honest(t, null);
        UpdateVerifier strict = new UpdateVerifier(new UpdateVerifier.Config(
                new CheapCheckPolicy(null, 1e-9, null, null, null), 3, 12, new ComparisonPolicy.BitExact()));
        UpdateVerifier.Outcome o = verify(strict, t, good);
        assertThat(o.verdict().accepted()).isTrue(); // a flag alone never rejects
        assertThat(o.verdict().flags()).containsExactly(ReasonCode.NORM_OUT_OF_BOUNDS);
        assertThat(o.reexecutedSegments()).isEqualTo(12);
    }

    @Test
    void theSameSubmissionAndBlockDrawTheSameSegments() {
        LocalTrainer.Task t = task("t");
        ForgedWork good = honest(t, null);
        assertThat(verify(bitExact(6), t, good).verdict().sampledSegments())
                .isEqualTo(verify(bitExact(6), t, good).verdict().sampledSegments());
        TrailHeader h = t.header();
        assertThat(h.segments()).isEqualTo(20);
    }
}
