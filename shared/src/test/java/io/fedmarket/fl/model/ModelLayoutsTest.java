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
                .hasMessage("unknown model spec 'vit': use mlp, mlp:H1,H2 or cnn");
        assertThatThrownBy(() -> ModelLayouts.initialState("mlp:70000", 1)).hasMessageContaining("1..65536");
    }
}
