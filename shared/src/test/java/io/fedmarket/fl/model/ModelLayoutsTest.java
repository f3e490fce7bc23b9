package io.fedmarket.fl.model;

import io.fedmarket.crypto.Hashes;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The plain-Java side alone (the DJL equality is gpu-worker's ModelLayoutsTest): sizes, grammar, and a golden hash of
 * a start model, because a published round-1 model must not change when this code does.
 */
class ModelLayoutsTest {
    @Test
    void layoutsHaveTheArchitecturesSizes() {
        assertThat(ModelLayouts.layout("mlp").parameterCount()).isEqualTo(784L * 128 + 128 + 128 * 10 + 10);
        assertThat(ModelLayouts.layout("mlp:256,128").parameterCount()).isEqualTo(784L * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
        assertThat(ModelLayouts.layout("cnn").parameterCount()).isEqualTo(156 + 2416 + 30840 + 10164 + 850);
        assertThat(ModelLayouts.names("cnn")).containsExactly("01Conv2d_weight", "01Conv2d_bias", "04Conv2d_weight", "04Conv2d_bias",
                "08Linear_weight", "08Linear_bias", "10Linear_weight", "10Linear_bias", "12Linear_weight", "12Linear_bias");
        assertThat(ModelLayouts.shapes("cnn").get(2)).containsExactly(16, 6, 5, 5);
        assertThat(ModelLayouts.names("mlp:256,128")).containsExactly("01Linear_weight", "01Linear_bias", "03Linear_weight",
                "03Linear_bias", "05Linear_weight", "05Linear_bias");
        assertThat(ModelLayouts.shapes("mlp:256,128").get(2)).containsExactly(128, 256);
    }

    @Test
    void startModelIsSeededUniformWeightsAndZeroBiases() {
        ModelState m = ModelLayouts.initialState("mlp", 1);
        assertThat(m.velocity()).isNull();
        assertThat(m.step()).isZero();
        double bound = 1 / Math.sqrt(784);
        for (float v : m.params()[0]) {
            assertThat(Math.abs(v)).isLessThanOrEqualTo((float) bound);
        }
        assertThat(m.params()[1]).containsOnly(0f);
        assertThat(ModelLayouts.initialState("MLP ", 1).paramsHash()).isEqualTo(m.paramsHash());
        assertThat(ModelLayouts.initialState("mlp", 2).paramsHash()).isNotEqualTo(m.paramsHash());
        assertThat(ModelState.decode(m.encode(), "start").paramsHash()).isEqualTo(m.paramsHash());
    }

    @Test
    void goldenStartModelHashes() {
        assertThat(Hashes.hex(ModelLayouts.initialState("mlp", 1).paramsHash())).isEqualTo("0x6d442faa18d3442f3b7ff27d28fce5c0e758f6889cc765f5da9b18478e9c1f5a");
        assertThat(Hashes.hex(ModelLayouts.initialState("cnn", 7).paramsHash())).isEqualTo("0xced76d66de351f82bd2236b421abd51aa7464e1040c64e52957b1502639d6662");
    }

    @Test
    void unknownSpecsNameWhatToUse() {
        assertThatThrownBy(() -> ModelLayouts.layout("vit")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown model spec 'vit': use mlp, mlp:H1,H2, cnn or resnet:D");
        assertThatThrownBy(() -> ModelLayouts.initialState("mlp:70000", 1)).hasMessageContaining("1..65536");
        assertThatThrownBy(() -> ModelLayouts.layout("resnet")).hasMessageContaining("give the ResNet's depth, e.g. resnet:20");
        assertThatThrownBy(() -> ModelLayouts.layout("resnet:19")).hasMessageContaining("6n+2");
        assertThatThrownBy(() -> ModelLayouts.layout("resnet:20;input=3x64x64")).hasMessageContaining("one of 18, 34, 50");
        assertThatThrownBy(() -> ModelLayouts.layout("resnet:20;input=784")).hasMessageContaining("needs an image input CxHxW");
        assertThatThrownBy(() -> ModelLayouts.layout("cnn;input=1x12x12")).hasMessageContaining("at least 16×16");
        assertThatThrownBy(() -> ModelLayouts.layout("mlp;input=3x4")).hasMessageContaining("must be CxHxW");
        assertThatThrownBy(() -> ModelLayouts.layout("mlp;classes=1")).hasMessageContaining("classes must be an integer in 2..100000");
        assertThatThrownBy(() -> ModelLayouts.layout("mlp;colour=red")).hasMessageContaining("'colour=red' is not an option");
        assertThatThrownBy(() -> ModelLayouts.layout("mlp;classes=3;classes=4")).hasMessageContaining("given twice");
        assertThatThrownBy(() -> ModelLayouts.layout("resnet:152;input=3x224x224;classes=100000")).hasMessageContaining("more than the 50000000");
    }

    @Test
    void shapesAndClassesArePartOfTheSpecAndDefaultsAreLeftOut() {
        assertThat(ModelLayouts.layout("cnn;input=1x28x28;classes=10").spec()).isEqualTo("cnn");
        assertThat(ModelLayouts.layout("MLP;Input=1x28x28").spec()).isEqualTo("mlp");
        assertThat(ModelLayouts.layout("mlp;input=784;classes=10").spec()).isEqualTo("mlp");
        // an MLP flattens an image: its input is a feature count
        ModelLayouts.Layout tab = ModelLayouts.layout("mlp:16 ; classes=3; input=3x4x5");
        assertThat(tab.spec()).isEqualTo("mlp:16;input=60;classes=3");
        assertThat(tab.input()).containsExactly(60);
        assertThat(tab.shapes().get(0)).containsExactly(16, 60);
        assertThat(tab.shapes().get(3)).containsExactly(3);
        ModelLayouts.Layout cnn = ModelLayouts.layout("cnn;input=3x32x32;classes=5");
        assertThat(cnn.input()).containsExactly(3, 32, 32);
        assertThat(cnn.shapes().get(0)).containsExactly(6, 3, 5, 5);
        assertThat(cnn.shapes().get(4)).containsExactly(120, 16 * 5 * 5);
        assertThat(cnn.shapes().get(9)).containsExactly(5);
        // the same spec text, the same start model; a different shape, a different model
        assertThat(ModelLayouts.initialState("cnn;classes=10", 7).paramsHash()).isEqualTo(ModelLayouts.initialState("cnn", 7).paramsHash());
    }

    @Test
    void resnet20IsDjlsCifarStyleNetWithItsBatchNormBuffers() {
        ModelLayouts.Layout r = ModelLayouts.layout("resnet:20");
        assertThat(r.architecture()).isEqualTo(ModelLayouts.Architecture.RESNET);
        assertThat(r.depth()).isEqualTo(20);
        assertThat(r.input()).containsExactly(1, 28, 28);
        // 3 stages of 3 units (2 conv + 2 BN each), a projected shortcut in each stage's first unit, stem conv, linear
        assertThat(r.names()).startsWith("01Conv2d_weight", "02ParallelBlock_01SequentialBlock_01Conv2d_weight",
                "02ParallelBlock_01SequentialBlock_02BatchNorm_gamma", "02ParallelBlock_01SequentialBlock_02BatchNorm_beta",
                "02ParallelBlock_01SequentialBlock_02BatchNorm_runningMean", "02ParallelBlock_01SequentialBlock_02BatchNorm_runningVar");
        assertThat(r.names()).endsWith("13Linear_weight", "13Linear_bias");
        assertThat(r.shapes().get(r.tensorCount() - 2)).containsExactly(10, 64);
        assertThat(r.tensorCount()).isEqualTo(1 + 9 * 10 + 3 * 5 + 2);
        assertThat(r.bufferIndices()).hasSize(2 * (9 * 2 + 3));
        long stem = 16 * 9;
        long stage1 = 6 * 16 * 16 * 9 + 6 * 4 * 16 + 16 * 16 + 4 * 16;
        long stage2 = 32 * 16 * 9 + 5 * 32 * 32 * 9 + 6 * 4 * 32 + 32 * 16 + 4 * 32;
        long stage3 = 64 * 32 * 9 + 5 * 64 * 64 * 9 + 6 * 4 * 64 + 64 * 32 + 4 * 64;
        assertThat(r.parameterCount()).isEqualTo(stem + stage1 + stage2 + stage3 + 64 * 10 + 10).isEqualTo(274_010L);
        ModelState s = ModelLayouts.initialState("resnet:20", 3);
        assertThat(s.params()[r.names().indexOf("02ParallelBlock_01SequentialBlock_02BatchNorm_runningVar")]).containsOnly(1f);
        assertThat(s.params()[r.names().indexOf("02ParallelBlock_01SequentialBlock_02BatchNorm_runningMean")]).containsOnly(0f);
        assertThat(ModelLayouts.initialState("resnet:20", 3).paramsHash()).isEqualTo(s.paramsHash());
        assertThat(ModelLayouts.initialState("resnet:20", 4).paramsHash()).isNotEqualTo(s.paramsHash());
    }
}
