package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.model.ModelSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrainingSessionTest {
    static ImageData data;
    static int[] shard;

    @BeforeAll
    static void setUp() {
        Engines.useThreads(1);
        data = Datasets.load("synthetic:1200");
        shard = Partitions.shard(data, "iid", 2, 0, 11);
    }

    private String train(ModelSpec spec, ModelState start, int from, int to, double momentum, double mu, float[] firstLast) {
        BatchPlan plan = new BatchPlan(shard, 32, 99);
        try (TrainingSession s = TrainingSession.open(spec, 32, start, start, 0.01, momentum, mu)) {
            for (int st = from; st < to; st++) {
                float l = s.step(data, plan.batch(st));
                if (firstLast != null) {
                    if (st == from) {
                        firstLast[0] = l;
                    }
                    firstLast[1] = l;
                }
            }
            return Hashes.hex(s.snapshot(false).paramsHash());
        }
    }

    @Test
    void mlpLearnsAndIsBitExactAcrossRuns() {
        ModelSpec mlp = ModelSpec.parse("mlp");
        ModelState init = TrainingSession.initialState(mlp, 5);
        float[] fl = new float[2];
        String a = train(mlp, init, 0, 150, 0.9, 0, fl);
        String b = train(mlp, init, 0, 150, 0.9, 0, null);
        assertThat(a).isEqualTo(b);
        assertThat(fl[1]).as("loss after 150 steps vs first step").isLessThan(fl[0] * 0.5f);
        assertThat(a).isNotEqualTo(Hashes.hex(init.paramsHash()));
    }

    @Test
    void segmentFromCheckpointWithMomentumAndProxReproducesTheHash() {
        ModelSpec mlp = ModelSpec.parse("mlp:64");
        ModelState init = TrainingSession.initialState(mlp, 6);
        BatchPlan plan = new BatchPlan(shard, 32, 99);
        ModelState mid;
        String end;
        try (TrainingSession s = TrainingSession.open(mlp, 32, init, init, 0.01, 0.9, 0.01)) {
            for (int st = 0; st < 40; st++) {
                s.step(data, plan.batch(st));
            }
            mid = ModelState.decode(s.snapshot(true).encode(), "mid");
            for (int st = 40; st < 80; st++) {
                s.step(data, plan.batch(st));
            }
            end = Hashes.hex(s.snapshot(false).paramsHash());
        }
        assertThat(mid.step()).isEqualTo(40);
        try (TrainingSession s = TrainingSession.open(mlp, 32, mid, init, 0.01, 0.9, 0.01)) {
            for (int st = 40; st < 80; st++) {
                s.step(data, plan.batch(st));
            }
            assertThat(Hashes.hex(s.snapshot(false).paramsHash())).isEqualTo(end);
        }
        // without the momentum buffers the replay diverges: the checkpoint must carry them
        ModelState noVelocity = new ModelState(mid.names(), mid.shapes(), mid.params(), null, 40);
        try (TrainingSession s = TrainingSession.open(mlp, 32, noVelocity, init, 0.01, 0.9, 0.01)) {
            for (int st = 40; st < 80; st++) {
                s.step(data, plan.batch(st));
            }
            assertThat(Hashes.hex(s.snapshot(false).paramsHash())).isNotEqualTo(end);
        }
    }

    /**
     * A warm session reset to a checkpoint trains bit for bit what a fresh session opened from it trains: parameters, momentum,
     * FedProx anchor and step all come from the checkpoint, nothing from what the session ran before (here: 30 steps from
     * another model, with other momentum). Reset to a state without momentum, it starts from zero momentum like a fresh one.
     */
    @Test
    void aWarmSessionResetToACheckpointReproducesAFreshOneBitExactly() {
        ModelSpec mlp = ModelSpec.parse("mlp:64");
        ModelState init = TrainingSession.initialState(mlp, 6);
        ModelState other = TrainingSession.initialState(mlp, 77);
        BatchPlan plan = new BatchPlan(shard, 32, 99);
        ModelState mid;
        String end;
        String endState;
        try (TrainingSession s = TrainingSession.open(mlp, 32, init, init, 0.01, 0.9, 0.01)) {
            for (int st = 0; st < 40; st++) {
                s.step(data, plan.batch(st));
            }
            mid = ModelState.decode(s.snapshot(true).encode(), "mid");
            for (int st = 40; st < 80; st++) {
                s.step(data, plan.batch(st));
            }
            end = Hashes.hex(s.snapshot(false).paramsHash());
            endState = Hashes.hex(s.snapshot(true).stateHash());
        }
        String fromInitFresh = train(mlp, init, 0, 40, 0.9, 0.01, null);
        WarmSessions.clear();
        TrainingSession warm = WarmSessions.open(mlp, 32, other, other, 0.01, 0.9, 0.01);
        for (int st = 0; st < 30; st++) {
            warm.step(data, plan.batch(st + 5));
        }
        WarmSessions.release(warm);
        TrainingSession again = WarmSessions.open(mlp, 32, mid, init, 0.01, 0.9, 0.01);
        assertThat(again).as("the idle session is handed out again").isSameAs(warm);
        assertThat(again.currentStep()).isEqualTo(40);
        for (int st = 40; st < 80; st++) {
            again.step(data, plan.batch(st));
        }
        assertThat(Hashes.hex(again.snapshot(false).paramsHash())).isEqualTo(end);
        assertThat(Hashes.hex(again.snapshot(true).stateHash())).as("momentum and step too").isEqualTo(endState);
        WarmSessions.release(again);
        // reset to a state without momentum (a round's model): zero momentum, as a fresh session starts with
        TrainingSession fromInit = WarmSessions.open(mlp, 32, init, init, 0.01, 0.9, 0.01);
        assertThat(fromInit).isSameAs(warm);
        for (int st = 0; st < 40; st++) {
            fromInit.step(data, plan.batch(st));
        }
        assertThat(Hashes.hex(fromInit.snapshot(false).paramsHash())).isEqualTo(fromInitFresh);
        WarmSessions.release(fromInit);
        // other hyper-parameters never get that session
        TrainingSession otherLr = WarmSessions.open(mlp, 32, init, init, 0.02, 0.9, 0.01);
        assertThat(otherLr).isNotSameAs(warm);
        otherLr.close();
        WarmSessions.clear();
    }

    @Test
    void cnnTrainsOnTheNiidBenchShape() {
        ModelSpec cnn = ModelSpec.parse("cnn");
        ModelState init = TrainingSession.initialState(cnn, 1);
        // conv1 6×1×5×5+6, conv2 16×6×5×5+16, fc 256→120, 120→84, 84→10
        assertThat(init.parameterCount()).isEqualTo(156 + 2416 + 30840 + 10164 + 850);
        float[] fl = new float[2];
        String a = train(cnn, init, 0, 60, 0.9, 0, fl);
        assertThat(a).isEqualTo(train(cnn, init, 0, 60, 0.9, 0, null));
        assertThat(fl[1]).isLessThan(fl[0]);
    }

    @Test
    void wrongCheckpointForTheModelIsRefusedClearly() {
        ModelState mlp = TrainingSession.initialState(ModelSpec.parse("mlp"), 1);
        assertThatThrownBy(() -> TrainingSession.open(ModelSpec.parse("cnn"), 32, mlp, mlp, 0.1, 0, 0))
                .hasMessageContaining("another model spec");
        assertThatThrownBy(() -> ModelSpec.parse("transformer")).hasMessageContaining("use mlp, mlp:H1,H2, cnn or resnet:D");
    }

    @Test
    void checkpointRoundTripKeepsEverything() {
        ModelState s = TrainingSession.initialState(ModelSpec.parse("mlp:16"), 3);
        ModelState back = ModelState.decode(s.encode(), "x");
        assertThat(back.names()).isEqualTo(s.names());
        assertThat(back.paramsHash()).isEqualTo(s.paramsHash());
        assertThatThrownBy(() -> ModelState.decode(new byte[]{1, 2, 3, 4, 5, 6, 7, 8}, "junk.bin")).hasMessageContaining("junk.bin");
    }

    @Test
    void missingFashionMnistNamesTheDebianPackage() throws Exception {
        Path empty = Files.createTempDirectory("nofmnist");
        System.setProperty("fedmarket.fashion.mnist.dir", empty.toString());
        try {
            assertThatThrownBy(() -> Datasets.load("fashion-mnist-test"))
                    .hasMessageContaining("apt-get install dataset-fashion-mnist")
                    .hasMessageContaining(empty.toString());
        } finally {
            System.clearProperty("fedmarket.fashion.mnist.dir");
            Files.delete(empty);
        }
        assertThatThrownBy(() -> Datasets.load("imagenet")).hasMessageContaining("use fashion-mnist, fashion-mnist-test, synthetic:N or synthetic:N:SHAPE:CLASSES");
    }
}
