package io.fedmarket.fl.aggregation;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AggregationRegistryTest {
    @Test
    void buildsEveryNamedRuleWithItsParameters() {
        assertThat(AggregationRegistry.create("FedAvg")).isInstanceOf(FedAvg.class);
        assertThat(((FedProx) AggregationRegistry.create("fedprox", Map.of("mu", 0.5))).mu()).isEqualTo(0.5);
        assertThat(AggregationRegistry.create("fedadam").name()).isEqualTo("fedadam");
        assertThat(AggregationRegistry.create("fed_yogi".replace("_", ""), Map.of("eta", "0.05")).name())
                .isEqualTo("fedyogi");
        assertThat(AggregationRegistry.create("coordinate_median")).isInstanceOf(CoordinateMedian.class);
        assertThat(((TrimmedMean) AggregationRegistry.create("trimmed_mean", Map.of("beta", 0.2))).beta()).isEqualTo(0.2);
        MultiKrum mk = (MultiKrum) AggregationRegistry.create("multi-krum", Map.of("f", 2, "m", 4));
        assertThat(mk.f()).isEqualTo(2);
        assertThat(mk.m()).isEqualTo(4);
        assertThat(mk.minUpdates()).isEqualTo(7);
        assertThat(AggregationRegistry.create("krum").name()).isEqualTo("krum");
        assertThat(AggregationRegistry.names()).contains("fedavg", "fedprox", "fedadam", "fedyogi", "median",
                "trimmed-mean", "krum", "multi-krum");
    }

    @Test
    void explainsUnknownNamesAndBadParameters() {
        assertThatThrownBy(() -> AggregationRegistry.create("fedsgd"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown aggregation rule 'fedsgd'")
                .hasMessageContaining("fedavg");
        assertThatThrownBy(() -> AggregationRegistry.create(" "))
                .hasMessageContaining("choose one of");
        assertThatThrownBy(() -> AggregationRegistry.create("fedavg", Map.of("mu", 1)))
                .hasMessageContaining("does not take parameter(s) [mu]");
        assertThatThrownBy(() -> AggregationRegistry.create("trimmed-mean", Map.of("beta", "lots")))
                .hasMessageContaining("beta must be a number");
        assertThatThrownBy(() -> AggregationRegistry.create("multi-krum", Map.of("f", 1)))
                .hasMessageContaining("needs parameter m");
        assertThatThrownBy(() -> AggregationRegistry.create("krum", Map.of("f", 1.5)))
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> AggregationRegistry.create("fedadam", Map.of("tau", 0)))
                .hasMessageContaining("tau");
    }
}
