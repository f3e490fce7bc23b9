package io.fedmarket.worker.train;

import io.fedmarket.fl.model.Evaluator;
import io.fedmarket.fl.model.Evaluators;
import io.fedmarket.fl.model.Inference;
import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.model.ModelSpec;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The model-agnostic validation-loss path: {@link Evaluators} finds DJL's evaluator on this classpath (ServiceLoader), it
 * agrees with shared's plain-Java forward pass where both run, and it scores a ResNet (batch norm in inference mode, with
 * the running statistics the training moved), which the plain-Java pass cannot.
 */
class DjlEvaluatorTest {
    static float[] inputs(ImageData d, int n) {
        float[] x = new float[n * d.pixelsPerImage()];
        for (int i = 0; i < n; i++) {
            d.copyScaled(i, x, i * d.pixelsPerImage());
        }
        return x;
    }

    static int[] labels(ImageData d, int n) {
        return java.util.Arrays.copyOf(d.labels(), n);
    }

    @Test
    void theClasspathsEvaluatorsRunEveryCatalogueModelAndAgreeWithPlainJava() {
        assertThat(Evaluators.all()).extracting(Evaluator::name).containsExactly("plain-java", "djl-pytorch");
        ModelLayouts.Layout resnet = ModelLayouts.layout("resnet:8;input=1x8x8;classes=3");
        assertThat(Evaluators.forLayout(resnet)).get().extracting(Evaluator::name).isEqualTo("djl-pytorch");
        assertThat(Evaluators.forLayout(resnet, java.util.List.of(Evaluators.PLAIN_JAVA))).isEmpty();

        ImageData d = Datasets.load("synthetic:200");
        for (String spec : new String[]{"mlp:32", "cnn"}) {
            ModelLayouts.Layout l = ModelLayouts.layout(spec);
            assertThat(Evaluators.forLayout(l)).get().extracting(Evaluator::name).isEqualTo("plain-java");
            ModelState s = ModelLayouts.initialState(spec, 4);
            Inference.Evaluation j = Evaluators.PLAIN_JAVA.evaluate(l, s.flat(), inputs(d, 100), labels(d, 100));
            Inference.Evaluation k = new DjlEvaluator().evaluate(l, s.flat(), inputs(d, 100), labels(d, 100));
            assertThat(k.meanLoss()).as(spec).isCloseTo(j.meanLoss(), within(1e-4 * j.meanLoss()));
            assertThat(k.accuracy()).as(spec).isEqualTo(j.accuracy());
        }
    }

    @Test
    void aTrainedResnetScoresBetterThanItsStartAndEvaluationChangesNothing() {
        String spec = "resnet:8;input=1x8x8;classes=3";
        ModelLayouts.Layout l = ModelLayouts.layout(spec);
        ImageData d = Datasets.load("synthetic:120:1x8x8:3");
        int[] shard = Partitions.shard(d, "iid", 1, 0, 1);
        ModelState start = ModelLayouts.initialState(spec, 9);
        Engines.useThreads(1);
        ModelState trained;
        try (TrainingSession s = TrainingSession.open(ModelSpec.parse(spec), 8, start, start, 0.05, 0.9, 0)) {
            BatchPlan plan = new BatchPlan(shard, 8, 1);
            for (int st = 0; st < 30; st++) {
                s.step(d, plan.batch(st));
            }
            trained = s.snapshot(false);
        }
        Evaluator djl = Evaluators.forLayout(l).orElseThrow();
        float[] flat = trained.flat();
        float[] copy = flat.clone();
        Inference.Evaluation before = djl.evaluate(l, start.flat(), inputs(d, 120), labels(d, 120));
        Inference.Evaluation after = djl.evaluate(l, flat, inputs(d, 120), labels(d, 120));
        System.out.printf(java.util.Locale.ROOT, "DjlEvaluatorTest resnet:8 loss %.4f -> %.4f, accuracy %.3f -> %.3f%n",
                before.meanLoss(), after.meanLoss(), before.accuracy(), after.accuracy());
        assertThat(after.meanLoss()).isFinite().isLessThan(before.meanLoss());
        assertThat(after.accuracy()).isGreaterThan(before.accuracy());
        assertThat(flat).as("evaluation does not touch the parameters (running statistics included)").isEqualTo(copy);
        assertThat(djl.evaluate(l, flat, inputs(d, 120), labels(d, 120))).isEqualTo(after);
    }
}
