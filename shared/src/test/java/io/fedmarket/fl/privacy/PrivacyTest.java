package io.fedmarket.fl.privacy;

import io.fedmarket.fl.Vectors;
import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PrivacyTest {
    @Test
    void clipsOnlyUpdatesAboveTheNorm() {
        assertThat(GaussianUpdatePrivatizer.clip(new float[] {3f, 4f}, 1.0)).containsExactly(0.6f, 0.8f);
        assertThat(GaussianUpdatePrivatizer.clip(new float[] {0.3f, 0.4f}, 1.0)).containsExactly(0.3f, 0.4f);
    }

    @Test
    void noiseIsReproducibleFromTheSeedAndHasTheRightScale() {
        GaussianUpdatePrivatizer dp = new GaussianUpdatePrivatizer(2.0, 1.5);
        float[] delta = new float[20_000];
        float[] a = dp.privatizeDelta(delta, 7);
        assertThat(dp.privatizeDelta(delta, 7)).containsExactly(a);
        assertThat(dp.privatizeDelta(delta, 8)).isNotEqualTo(a);
        // zero delta ⇒ pure noise with sd σ·C = 3: sample sd within 2%
        double sd = Vectors.norm(a) / Math.sqrt(a.length);
        assertThat(sd).isCloseTo(3.0, within(0.06));
        float[] model = dp.privatizeModel(new float[] {1f, 1f}, new float[] {1f, 1f}, 3);
        assertThat(model).hasSize(2);
        assertThatThrownBy(() -> dp.privatizeDelta(new float[] {Float.NaN}, 1)).hasMessageContaining("NaN");
        assertThatThrownBy(() -> new GaussianUpdatePrivatizer(0, 1)).hasMessageContaining("clip norm");
    }

    @Test
    void rdpMatchesTensorFlowPrivacyReferenceValues() {
        // values from tensorflow/privacy rdp_accountant_test.py
        assertThat(new RdpAccountant(new int[] {5}).step(0.1, 2, 10).rdp()[0]).isCloseTo(0.07737, within(1e-5));
        double[] rdp = new RdpAccountant(new int[] {5, 50, 100}).step(0.01, 2.5, 50).rdp();
        assertThat(rdp[0]).isCloseTo(0.00218075, within(1e-5));
        assertThat(rdp[1]).isCloseTo(0.023846, within(1e-5));
        assertThat(rdp[2]).isCloseTo(167.416307, within(1e-4));
        assertThat(new RdpAccountant(new int[] {20}).step(1, 10, 1).rdp()[0]).isEqualTo(0.1);
        assertThat(new RdpAccountant(new int[] {20}).step(0, 10, 1).rdp()[0]).isEqualTo(0.0);
    }

    @Test
    void epsilonForDeltaMatchesReferenceAndHandComputation() {
        int[] orders = IntStream.rangeClosed(2, 32).toArray();
        RdpAccountant.Spent tf = new RdpAccountant(orders).step(0.01, 4, 10_000).epsilonClassic(1e-5);
        assertThat(tf.epsilon()).isCloseTo(1.258575, within(1e-5));
        assertThat(tf.order()).isEqualTo(20);
        // no sampling, σ=1, one step: RDP(α) = α/2; classic ε = min_α α/2 + ln(1e5)/(α−1) at α=6
        RdpAccountant full = new RdpAccountant(orders).step(1, 1, 1);
        assertThat(full.epsilonClassic(1e-5).epsilon()).isCloseTo(3 + Math.log(1e5) / 5, within(1e-12));
        assertThat(full.epsilonClassic(1e-5).order()).isEqualTo(6);
        // the Balle et al. 2020 conversion is never looser than the classic one
        assertThat(full.epsilon(1e-5).epsilon()).isLessThan(full.epsilonClassic(1e-5).epsilon());
        RdpAccountant.Spent e = new RdpAccountant(orders).step(0.01, 4, 10_000).epsilon(1e-5);
        assertThat(e.epsilon()).isLessThan(tf.epsilon()).isGreaterThan(0.9);
    }

    @Test
    void moreRoundsSpendMorePrivacy() {
        double e10 = new RdpAccountant().step(0.1, 1.1, 10).epsilon(1e-5).epsilon();
        double e100 = new RdpAccountant().step(0.1, 1.1, 100).epsilon(1e-5).epsilon();
        assertThat(e100).isGreaterThan(e10);
        assertThatThrownBy(() -> new RdpAccountant().epsilon(0)).hasMessageContaining("delta");
        assertThatThrownBy(() -> new RdpAccountant().step(1.5, 1, 1)).hasMessageContaining("sampling rate");
    }
}
