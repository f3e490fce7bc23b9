package io.fedmarket.worker.train;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.fl.model.Inference;
import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.model.TorchScriptArchive;
import io.fedmarket.fl.model.TorchScriptModels;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.model.ModelSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An uploaded TorchScript file ({@code infra/models/fixtures/small.pt}: Conv2d + BatchNorm2d + Linear, written by python3-torch 1.13)
 * trained by DJL as a PtSymbolBlock: its own weights are the start model, training is bit-exact across sessions, a segment resumed from
 * a checkpoint (parameters, momentum and the batch norm's running statistics) reproduces the continuous run, and the buffers change.
 */
class TorchScriptTrainingTest {
    static ImageData data;
    static int[] shard;
    static ModelSpec spec;
    static TorchScriptArchive archive;

    @BeforeAll
    static void setUp() throws Exception {
        Engines.useThreads(1);
        data = Datasets.load("synthetic:600");
        shard = Partitions.shard(data, "iid", 2, 0, 11);
        archive = TorchScriptModels.register(Files.readAllBytes(Path.of("../infra/models/fixtures/small.pt")));
        spec = ModelSpec.parse("torchscript:" + archive.sha256());
    }

    @Test
    void trainsBitExactlyAndAResumedSegmentReproducesParametersAndBuffers() {
        ModelState init = TrainingSession.initialState(spec, 1);
        assertThat(init.paramsHash()).isEqualTo(archive.state().paramsHash());
        BatchPlan plan = new BatchPlan(shard, 16, 7);
        ModelState mid;
        String end;
        float first;
        float last = 0;
        try (TrainingSession s = TrainingSession.open(spec, 16, init, init, 0.05, 0.9, 0)) {
            first = s.step(data, plan.batch(0));
            for (int st = 1; st < 10; st++) {
                s.step(data, plan.batch(st));
            }
            mid = ModelState.decode(s.snapshot(true).encode(), "mid");
            for (int st = 10; st < 20; st++) {
                last = s.step(data, plan.batch(st));
            }
            end = Hashes.hex(s.snapshot(false).paramsHash());
        }
        assertThat(last).as("loss after 20 steps vs first").isLessThan(first);
        int rv = spec.layout().names().indexOf("bn.running_var");
        int nb = spec.layout().names().indexOf("bn.num_batches_tracked");
        assertThat(mid.params()[rv]).as("running variance moved from its initial ones").isNotEqualTo(init.params()[rv]);
        assertThat(mid.params()[nb]).containsExactly(10f);
        try (TrainingSession s = TrainingSession.open(spec, 16, mid, init, 0.05, 0.9, 0)) {
            for (int st = 10; st < 20; st++) {
                s.step(data, plan.batch(st));
            }
            assertThat(Hashes.hex(s.snapshot(false).paramsHash())).as("resumed segment").isEqualTo(end);
        }
        // the same segment from a checkpoint whose buffers alone were faked ends elsewhere: the buffers are in the trail
        float[][] faked = mid.params().clone();
        faked[rv] = Arrays.copyOf(faked[rv], faked[rv].length);
        faked[rv][0] += 0.5f;
        ModelState cheat = new ModelState(mid.names(), mid.shapes(), faked, mid.velocity(), mid.step());
        try (TrainingSession s = TrainingSession.open(spec, 16, cheat, init, 0.05, 0.9, 0)) {
            for (int st = 10; st < 20; st++) {
                s.step(data, plan.batch(st));
            }
            assertThat(Hashes.hex(s.snapshot(false).paramsHash())).isNotEqualTo(end);
        }
    }

    @Test
    void theDjlEvaluatorRunsTheUploadedModel() {
        ModelLayouts.Layout layout = spec.layout();
        ModelState init = TrainingSession.initialState(spec, 1);
        int n = 40;
        float[] x = new float[n * layout.inputSize()];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            data.copyScaled(i, x, i * layout.inputSize());
            y[i] = data.labels()[i];
        }
        Inference.Evaluation e = new DjlEvaluator().evaluate(layout, init.flat(), x, y);
        assertThat(e.meanLoss()).isPositive().isFinite();
        assertThat(e.samples()).isEqualTo(n);
    }

    @Test
    void aWarmSessionIsNeverReusedForATorchScriptModelSoEveryTaskStartsFromItsOwnState() {
        ModelState init = TrainingSession.initialState(spec, 1);
        BatchPlan plan = new BatchPlan(shard, 16, 7);
        TrainingSession a = WarmSessions.open(spec, 16, init, init, 0.05, 0.9, 0);
        for (int st = 0; st < 10; st++) {
            a.step(data, plan.batch(st));
        }
        ModelState mid = ModelState.decode(a.snapshot(true).encode(), "mid");
        assertThat(a.reusable()).isFalse();
        WarmSessions.release(a); // closed, not kept: its module holds buffers a reset would not write
        TrainingSession b = WarmSessions.open(spec, 16, mid, init, 0.05, 0.9, 0);
        try {
            assertThat(b).isNotSameAs(a);
            for (int st = 10; st < 20; st++) {
                b.step(data, plan.batch(st));
            }
            String warmEnd = Hashes.hex(b.snapshot(false).paramsHash());
            try (TrainingSession fresh = TrainingSession.open(spec, 16, mid, init, 0.05, 0.9, 0)) {
                for (int st = 10; st < 20; st++) {
                    fresh.step(data, plan.batch(st));
                }
                assertThat(warmEnd).isEqualTo(Hashes.hex(fresh.snapshot(false).paramsHash()));
            }
        } finally {
            WarmSessions.release(b);
        }
    }
}
