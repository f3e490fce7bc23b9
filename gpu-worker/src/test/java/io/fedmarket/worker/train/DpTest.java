package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DpTest {
    static ModelState state(float... v) {
        return new ModelState(List.of("w"), List.of(new long[]{v.length}), new float[][]{v}, null, 0);
    }

    static double norm(ModelState a, ModelState b) {
        double s = 0;
        for (int i = 0; i < a.params()[0].length; i++) {
            double d = a.params()[0][i] - b.params()[0][i];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    @Test
    void clipsTheUpdateToTheBoundWithoutNoise() {
        ModelState global = state(0, 0, 0, 0);
        ModelState trained = state(3, 4, 0, 0); // ‖Δ‖ = 5
        ModelState clipped = TaskRunner.privatize(global, trained, 1.0, 0.0, 1);
        assertThat(norm(clipped, global)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(clipped.params()[0][0] / clipped.params()[0][1]).isCloseTo(0.75f, org.assertj.core.data.Offset.offset(1e-6f));
        // an update already inside the bound is left as it is
        assertThat(TaskRunner.privatize(global, state(0.3f, 0.4f, 0, 0), 1.0, 0.0, 1).params()[0]).containsExactly(0.3f, 0.4f, 0, 0);
    }

    @Test
    void noiseHasTheAskedScaleAndIsReproducibleFromItsSeed() {
        int n = 20_000;
        ModelState zero = state(new float[n]);
        ModelState a = TaskRunner.privatize(zero, zero, 2.0, 0.5, 42);
        ModelState b = TaskRunner.privatize(zero, zero, 2.0, 0.5, 42);
        assertThat(a.params()[0]).isEqualTo(b.params()[0]);
        double sd = norm(a, zero) / Math.sqrt(n); // σ·C = 1.0
        assertThat(sd).isBetween(0.97, 1.03);
        assertThat(TaskRunner.privatize(zero, zero, 2.0, 0.5, 43).params()[0]).isNotEqualTo(a.params()[0]);
    }
}
