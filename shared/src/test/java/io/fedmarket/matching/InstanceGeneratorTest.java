package io.fedmarket.matching;

import io.fedmarket.matching.bench.InstanceGenerator;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class InstanceGeneratorTest {

    @Test
    void sameSeedSameMarket() {
        InstanceGenerator.Instance a = InstanceGenerator.market(42, 500);
        InstanceGenerator.Instance b = InstanceGenerator.market(42, 500);
        assertThat(a).isEqualTo(b);
        assertThat(InstanceGenerator.market(43, 500)).isNotEqualTo(a);
    }

    @Test
    void distributionsHaveTheirIntendedShape() {
        InstanceGenerator.Instance in = InstanceGenerator.market(7, 20_000);
        double[] asks = in.gpus().stream().mapToDouble(g -> g.askPerGpuSecond().doubleValue()).sorted().toArray();
        double[] logAsks = Arrays.stream(asks).map(Math::log).toArray();
        double mean = Arrays.stream(logAsks).average().orElseThrow();
        double sd = Math.sqrt(Arrays.stream(logAsks).map(x -> (x - mean) * (x - mean)).average().orElseThrow());
        assertThat(asks[asks.length / 2]).isCloseTo(1000, within(40.0)); // log-normal: median 1000
        assertThat(sd).isCloseTo(0.45, within(0.02));                     // and sigma 0.45 on the log scale
        double rel = in.gpus().stream().mapToDouble(g -> g.reliability().completionRate()).average().orElseThrow();
        assertThat(rel).isBetween(0.8, 0.95);                              // Beta(9, 1.2) mean 0.88, shrunk by the prior
        double meanTopShare = in.data().stream().mapToDouble(d -> d.labelHistogram().values().stream().mapToLong(Long::longValue)
                .max().orElse(0) / (double) d.sampleCount()).average().orElseThrow();
        // Dirichlet(0.6) over 10 labels: non-IID, the largest label holds far more than the IID share of 1/10
        assertThat(meanTopShare).isGreaterThan(0.25);
        assertThat(in.data().stream().filter(d -> d.domain().equals(InstanceGenerator.DOMAIN)).count())
                .isCloseTo(7_000, within(300L));
    }
}
