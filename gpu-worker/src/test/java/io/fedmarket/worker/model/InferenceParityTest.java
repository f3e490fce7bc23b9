package io.fedmarket.worker.model;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.util.Pair;
import io.fedmarket.fl.data.IdxImages;
import io.fedmarket.fl.model.Inference;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.train.BatchPlan;
import io.fedmarket.worker.train.Engines;
import io.fedmarket.worker.train.TrainingSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plain-Java {@link Inference} (what the serverless verify function scores updates with) gives DJL's loss and
 * accuracy for the worker's models: on the seeded start model and after 30 SGD steps of the worker's own training on
 * Fashion-MNIST, over 256 test images.
 */
class InferenceParityTest {
    private static final int N = 256;
    private static final int STEPS = 30;
    private static ImageData test;
    private static float[] x;
    private static int[] y;
    private static double maxRelLossDiff;
    private static final StringBuilder FIGURES = new StringBuilder();

    @BeforeAll
    static void setUp() {
        Engines.useThreads(1);
        ImageData full = Datasets.load("fashion-mnist-test");
        int p = full.pixelsPerImage();
        test = new ImageData("fashion-mnist-test[0," + N + ")", Arrays.copyOf(full.pixels(), N * p),
                Arrays.copyOf(full.labels(), N), full.rows(), full.cols());
        x = new float[N * p];
        for (int i = 0; i < N; i++) {
            test.copyScaled(i, x, i * p);
        }
        y = test.labels().clone();
    }

    @AfterAll
    static void report() {
        System.out.print(FIGURES);
        System.out.printf(Locale.ROOT, "InferenceParityTest: max relative loss difference %.3e%n", maxRelLossDiff);
    }

    /** DJL's mean softmax cross-entropy and accuracy of {@code state}, the model built and loaded as the worker does. */
    static Inference.Evaluation djl(ModelSpec spec, ModelState state, float[] images, int[] labels) {
        int n = labels.length;
        JniUtils.setGradMode(false); // as TrainingSession.noGrad: set() on a parameter is an in-place op
        try (Model model = Model.newInstance("parity-" + spec.text(), "PyTorch")) {
            NDManager manager = model.getNDManager();
            SequentialBlock block = spec.newBlock();
            model.setBlock(block);
            // TrainingSession's order: initialise the block, set the values, only then build and initialise the trainer
            block.initialize(manager, DataType.FLOAT32, spec.inputShape(n));
            int i = 0;
            for (Pair<String, Parameter> p : block.getParameters()) {
                assertThat(p.getKey()).isEqualTo(state.names().get(i));
                p.getValue().getArray().set(FloatBuffer.wrap(state.params()[i]));
                i++;
            }
            assertThat(i).isEqualTo(state.names().size());
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()))) {
                trainer.initialize(spec.inputShape(n));
                i = 0;
                for (Pair<String, Parameter> p : block.getParameters()) {
                    assertThat(p.getValue().getArray().toFloatArray()).as("%s survives trainer.initialize", p.getKey())
                            .isEqualTo(state.params()[i++]);
                }
                float[] yf = new float[n];
                for (int k = 0; k < n; k++) {
                    yf[k] = labels[k];
                }
                try (NDManager sub = manager.newSubManager()) {
                    NDArray xa = sub.create(FloatBuffer.wrap(images), spec.inputShape(n));
                    NDArray ya = sub.create(FloatBuffer.wrap(yf), new Shape(n));
                    NDList pred = trainer.evaluate(new NDList(xa));
                    double loss = trainer.getLoss().evaluate(new NDList(ya), pred).getFloat();
                    long[] arg = pred.singletonOrThrow().argMax(1).toLongArray();
                    int correct = 0;
                    for (int k = 0; k < n; k++) {
                        if (arg[k] == labels[k]) {
                            correct++;
                        }
                    }
                    return new Inference.Evaluation(loss, correct / (double) n, n);
                }
            }
        }
    }

    private static void assertParity(String what, ModelSpec spec, ModelState state) {
        Inference.Evaluation d = djl(spec, state, x, y);
        long t0 = System.nanoTime();
        Inference.Evaluation j = Inference.evaluate(spec.text(), state.flat(), x, y);
        double ms = (System.nanoTime() - t0) / 1e6;
        double rel = Math.abs(j.meanLoss() - d.meanLoss()) / Math.abs(d.meanLoss());
        maxRelLossDiff = Math.max(maxRelLossDiff, rel);
        FIGURES.append(String.format(Locale.ROOT, "%-7s %-8s djl loss %.7f acc %.4f | java loss %.7f acc %.4f | |Δloss| %.2e (rel %.2e), java %.1f ms%n",
                spec.text(), what, d.meanLoss(), d.accuracy(), j.meanLoss(), j.accuracy(),
                Math.abs(j.meanLoss() - d.meanLoss()), rel, ms));
        assertThat(j.samples()).isEqualTo(N);
        assertThat(j.accuracy()).as("%s %s accuracy", spec.text(), what).isEqualTo(d.accuracy());
        assertThat(rel).as("%s %s relative loss difference (java %s, djl %s)", spec.text(), what, j.meanLoss(), d.meanLoss())
                .isLessThanOrEqualTo(1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "mlp:32", "cnn"})
    void plainJavaMatchesDjlBeforeAndAfterTraining(String specText) {
        ModelSpec spec = ModelSpec.parse(specText);
        ModelState init = TrainingSession.initialState(spec, 23);
        assertParity("initial", spec, init);

        // the worker's own training path: 30 SGD steps with momentum on a Fashion-MNIST shard
        ImageData train = Datasets.load("fashion-mnist");
        int[] shard = Partitions.shard(train, "iid", 10, 3, 5);
        BatchPlan plan = new BatchPlan(shard, 32, 77);
        ModelState trained;
        double sessionAccuracy;
        try (TrainingSession s = TrainingSession.open(spec, 32, init, init, 0.05, 0.9, 0)) {
            for (int st = 0; st < STEPS; st++) {
                s.step(train, plan.batch(st));
            }
            trained = s.snapshot(false);
            sessionAccuracy = s.accuracy(test, 64); // the worker's own evaluation
        }
        assertThat(trained.step()).isEqualTo(STEPS);
        assertThat(trained.paramsHash()).isNotEqualTo(init.paramsHash());
        assertParity("trained", spec, trained);
        Inference.Evaluation j = Inference.evaluate(spec.text(), trained.flat(), x, y);
        assertThat(j.accuracy()).as("TrainingSession.accuracy agrees").isEqualTo(sessionAccuracy);
        assertThat(j.meanLoss()).as("30 steps learn something")
                .isLessThan(Inference.evaluate(spec.text(), init.flat(), x, y).meanLoss() - 0.1);
        assertThat(j.accuracy()).as("better than chance").isGreaterThan(0.2);
    }

    @Test
    void sharedIdxReaderGivesTheWorkersPixelsAndLabels() throws IOException {
        // Idx (the worker) delegates to IdxImages: reading the files directly from shared gives the same bytes and
        // the same scaled floats (what the verify function will feed Inference)
        IdxImages.Labelled d;
        try (InputStream im = Files.newInputStream(Datasets.fashionDir().resolve("t10k-images-idx3-ubyte.gz"));
             InputStream lb = Files.newInputStream(Datasets.fashionDir().resolve("t10k-labels-idx1-ubyte.gz"))) {
            d = IdxImages.read(im, lb);
        }
        ImageData w = Datasets.load("fashion-mnist-test");
        assertThat(d.size()).isEqualTo(w.size()).isEqualTo(10_000);
        assertThat(d.rows()).isEqualTo(28);
        assertThat(d.cols()).isEqualTo(28);
        assertThat(d.pixels()).isEqualTo(w.pixels());
        assertThat(d.labels()).isEqualTo(w.labels());
        int[] first = new int[N];
        for (int i = 0; i < N; i++) {
            first[i] = i;
        }
        assertThat(d.scaled(first)).isEqualTo(x);
        assertThat(d.labels(first)).isEqualTo(y);
    }
}
