package io.fedmarket.worker.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.util.Pair;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.model.ModelSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The plain-Java layout and start model of {@link ModelLayouts} are DJL's, tensor for tensor and bit for bit. */
class ModelLayoutsTest {
    record DjlLayout(List<String> names, List<long[]> shapes, ModelState initial) {
    }

    /** What TrainingSession.initialState computed before it delegated to ModelLayouts: DJL's block, our generator. */
    static DjlLayout djl(ModelSpec spec, long seed) {
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            SequentialBlock block = spec.newBlock();
            block.initialize(m, DataType.FLOAT32, spec.inputShape(1));
            SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
            List<String> names = new ArrayList<>();
            List<long[]> shapes = new ArrayList<>();
            List<float[]> values = new ArrayList<>();
            for (Pair<String, Parameter> p : block.getParameters()) {
                Shape s = p.getValue().getArray().getShape();
                float[] v = new float[Math.toIntExact(s.size())];
                if (s.dimension() > 1) {
                    long fanIn = s.size() / s.get(0);
                    double bound = 1 / Math.sqrt(fanIn);
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
                    }
                }
                names.add(p.getKey());
                shapes.add(s.getShape());
                values.add(v);
            }
            return new DjlLayout(names, shapes, new ModelState(names, shapes, values.toArray(new float[0][]), null, 0));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "mlp:256,128", "cnn"})
    void namesShapesAndStartModelAreDjlsAndTrain(String specText) {
        ModelSpec spec = ModelSpec.parse(specText);
        DjlLayout d = djl(spec, 17);
        ModelLayouts.Layout plain = ModelLayouts.layout(specText);
        assertThat(plain.names()).isEqualTo(d.names()).isEqualTo(ModelLayouts.names(specText));
        assertThat(plain.shapes()).hasSameSizeAs(d.shapes());
        for (int i = 0; i < d.shapes().size(); i++) {
            assertThat(plain.shapes().get(i)).as(d.names().get(i)).isEqualTo(d.shapes().get(i));
            assertThat(ModelLayouts.shapes(specText).get(i)).isEqualTo(d.shapes().get(i));
        }

        ModelState p = ModelLayouts.initialState(specText, 17);
        assertThat(p.parameterCount()).isEqualTo(d.initial().parameterCount()).isEqualTo((int) plain.parameterCount());
        for (int i = 0; i < d.names().size(); i++) {
            assertThat(Arrays.equals(p.params()[i], d.initial().params()[i])).as("tensor %s bit for bit", d.names().get(i)).isTrue();
        }
        assertThat(p.paramsHash()).isEqualTo(d.initial().paramsHash());
        assertThat(TrainingSession.initialState(spec, 17).paramsHash()).isEqualTo(p.paramsHash());
        assertThat(p.velocity()).isNull();
        assertThat(p.step()).isZero();
        // another seed, another model
        assertThat(ModelLayouts.initialState(specText, 18).paramsHash()).isNotEqualTo(p.paramsHash());

        // a session opens from the plain-Java state (the layout check passes) and trains
        Engines.useThreads(1);
        ImageData data = Datasets.load("synthetic:200");
        int[] shard = Partitions.shard(data, "iid", 1, 0, 1);
        ModelState decoded = ModelState.decode(p.encode(), "start model"); // as published to the bucket
        try (TrainingSession s = TrainingSession.open(spec, 16, decoded, decoded, 0.05, 0.9, 0)) {
            float loss = s.step(data, new BatchPlan(shard, 16, 3).batch(0));
            assertThat(loss).isFinite().isPositive();
            ModelState after = s.snapshot(true);
            assertThat(after.step()).isEqualTo(1);
            assertThat(after.names()).isEqualTo(plain.names());
            assertThat(Hashes.hex(after.paramsHash())).isNotEqualTo(Hashes.hex(p.paramsHash()));
        }
    }

    /**
     * Catalogue models with other inputs and classes, ResNet from DJL's model zoo among them: the plain-Java layout is the
     * block's, tensor for tensor (batch-norm running statistics included, as parameters without gradient); the seeded
     * start model sets a batch norm's gamma and running variance to 1; the block's output has the declared classes; one
     * step on data of that shape trains and moves the running statistics.
     */
    @ParameterizedTest
    @ValueSource(strings = {"resnet:20", "resnet:8;input=3x16x16;classes=5", "resnet:18;input=3x32x32;classes=4",
            "resnet:18;input=2x40x36;classes=3", "cnn;input=3x32x32;classes=5", "mlp:32;input=20;classes=3"})
    void catalogueLayoutsAreDjlsAndTrain(String specText) {
        ModelSpec spec = ModelSpec.parse(specText);
        ModelLayouts.Layout plain = ModelLayouts.layout(specText);
        assertThat(plain.spec()).isEqualTo(specText);
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            SequentialBlock block = spec.newBlock();
            block.initialize(m, DataType.FLOAT32, spec.inputShape(2));
            List<String> names = new ArrayList<>();
            for (Pair<String, Parameter> p : block.getParameters()) {
                int i = names.size();
                names.add(p.getKey());
                assertThat(i).as("more DJL tensors than the plain layout: %s", p.getKey()).isLessThan(plain.tensorCount());
                assertThat(p.getValue().getArray().getShape().getShape()).as(p.getKey()).isEqualTo(plain.shapes().get(i));
                assertThat(p.getValue().requiresGradient()).as(p.getKey()).isEqualTo(!ModelLayouts.isBuffer(p.getKey()));
            }
            assertThat(names).isEqualTo(plain.names());
            assertThat(block.getOutputShapes(new Shape[]{spec.inputShape(2)})[0]).isEqualTo(new Shape(2, plain.classes()));
        }
        ModelState init = ModelLayouts.initialState(specText, 5);
        for (int i = 0; i < plain.tensorCount(); i++) {
            String n = plain.names().get(i);
            if (n.endsWith("_gamma") || n.endsWith("_runningVar")) {
                assertThat(init.params()[i]).as(n).containsOnly(1f);
            } else if (n.endsWith("_beta") || n.endsWith("_runningMean") || n.endsWith("_bias")) {
                assertThat(init.params()[i]).as(n).containsOnly(0f);
            }
        }
        String shape = plain.input().size() == 1 ? String.valueOf(plain.input().get(0)) : plain.inputText();
        ImageData data = Datasets.load("synthetic:" + (plain.classes() * 20) + ":" + shape + ":" + plain.classes());
        int[] shard = Partitions.shard(data, "iid", 1, 0, 1);
        Engines.useThreads(1);
        try (TrainingSession s = TrainingSession.open(spec, 8, init, init, 0.05, 0.9, 0)) {
            assertThat(s.step(data, new BatchPlan(shard, 8, 3).batch(0))).isFinite().isPositive();
            ModelState after = s.snapshot(true);
            assertThat(after.names()).isEqualTo(plain.names());
            for (int i : plain.bufferIndices()) {
                assertThat(Arrays.equals(after.params()[i], init.params()[i])).as("running statistic %s moved", plain.names().get(i)).isFalse();
                assertThat(after.velocity()[i]).as("no momentum for %s", plain.names().get(i)).containsOnly(0f);
            }
        }
        // the data must fit the model
        ImageData wrong = Datasets.load("synthetic:200");
        if (wrong.pixelsPerImage() != plain.inputSize()) {
            try (TrainingSession s = TrainingSession.open(spec, 8, init, init, 0.05, 0.9, 0)) {
                assertThatThrownBy(() -> s.step(wrong, new BatchPlan(Partitions.shard(wrong, "iid", 1, 0, 1), 8, 3).batch(0)))
                        .hasMessageContaining("values per sample, model " + plain.spec());
            }
        }
    }

    @Test
    void theGoldenStartModelsOfSharedsTestAreDjls() {
        // the same values shared's io.fedmarket.fl.model.ModelLayoutsTest pins without DJL
        assertThat(Hashes.hex(djl(ModelSpec.parse("mlp"), 1).initial().paramsHash()))
                .isEqualTo("0x6d442faa18d3442f3b7ff27d28fce5c0e758f6889cc765f5da9b18478e9c1f5a");
        assertThat(Hashes.hex(djl(ModelSpec.parse("cnn"), 7).initial().paramsHash()))
                .isEqualTo("0xced76d66de351f82bd2236b421abd51aa7464e1040c64e52957b1502639d6662");
    }

    @Test
    void specGrammarAndErrorsAreTheWorkers() {
        assertThat(ModelLayouts.layout(" MLP ").spec()).isEqualTo("mlp");
        assertThat(ModelLayouts.layout("mlp").hidden()).containsExactly(128);
        assertThat(ModelLayouts.layout("mlp:256, 128").hidden()).containsExactly(256, 128);
        assertThat(ModelLayouts.layout("cnn").architecture()).isEqualTo(ModelLayouts.Architecture.CNN);
        assertThat(ModelLayouts.names("mlp")).containsExactly("01Linear_weight", "01Linear_bias", "03Linear_weight", "03Linear_bias");
        assertThatThrownBy(() -> ModelLayouts.layout("transformer")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown model spec 'transformer': use mlp, mlp:H1,H2, cnn or resnet:D");
        assertThatThrownBy(() -> ModelLayouts.layout("mlp:0")).hasMessageContaining("hidden widths must be integers in 1..65536");
        assertThatThrownBy(() -> ModelLayouts.layout("mlp:a")).hasMessageContaining("e.g. mlp:256,128");
        assertThatThrownBy(() -> ModelLayouts.layout("resnet18")).hasMessageStartingWith("unknown model spec 'resnet18'");
        assertThatThrownBy(() -> ModelLayouts.layout("resnet:21")).hasMessageContaining("6n+2");
        assertThatThrownBy(() -> ModelLayouts.layout(null)).hasMessageStartingWith("model spec is missing: use mlp, mlp:H1,H2, cnn or resnet:D");
        for (String bad : new String[]{"transformer", "mlp:0", "mlp:", "resnet50", "resnet:21", "cnn;input=20", "resnet:20;classes=1"}) {
            assertThatThrownBy(() -> ModelSpec.parse(bad)).hasMessage(catchMessage(() -> ModelLayouts.layout(bad)));
        }
    }

    private static String catchMessage(Runnable r) {
        try {
            r.run();
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error");
    }
}
