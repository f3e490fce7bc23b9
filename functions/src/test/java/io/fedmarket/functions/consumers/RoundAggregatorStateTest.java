package io.fedmarket.functions.consumers;

import io.fedmarket.fl.aggregation.AggregationRegistry;
import io.fedmarket.fl.aggregation.AggregationResult;
import io.fedmarket.fl.aggregation.AggregationRule;
import io.fedmarket.fl.aggregation.ClientUpdate;
import io.fedmarket.fl.aggregation.ServerState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A server optimiser's moments survive the bucket between two rounds: round 2 from the stored state = round 2 in memory. */
class RoundAggregatorStateTest {
    @Test
    void fedAdamMomentsRoundTripAndRound2IsTheSameAsInMemory() {
        AggregationRule adam = AggregationRegistry.create("fedadam");
        float[] g = {0.5f, -1f, 2f};
        List<ClientUpdate> r1 = List.of(new ClientUpdate("a", new float[] {1f, -0.5f, 2.5f}, 10), new ClientUpdate("b", new float[] {0f, -2f, 1f}, 30));
        AggregationResult first = adam.aggregate(g, r1, ServerState.NONE);
        assertThat(first.state().isEmpty()).isFalse();

        ServerState stored = RoundAggregator.decodeState(RoundAggregator.encodeState(first.state()));
        assertThat(stored.m()).containsExactly(first.state().m());
        assertThat(stored.v()).containsExactly(first.state().v());
        assertThat(stored.round()).isEqualTo(first.state().round());

        List<ClientUpdate> r2 = List.of(new ClientUpdate("c", new float[] {0.2f, 0.1f, 0f}, 5), new ClientUpdate("d", new float[] {0.4f, -0.3f, 1f}, 5));
        assertThat(adam.aggregate(first.model(), r2, stored).model()).containsExactly(adam.aggregate(first.model(), r2, first.state()).model());
    }

    @Test
    void aTruncatedStateFileIsAClearError() {
        byte[] bytes = RoundAggregator.encodeState(new ServerState(new double[] {1, 2}, new double[] {3, 4}, 7));
        assertThatThrownBy(() -> RoundAggregator.decodeState(java.util.Arrays.copyOf(bytes, bytes.length - 3)))
                .hasMessageContaining("server state is not a state file");
    }

    @Test
    void stateKeysArePerJobAndRoundUnderModels() {
        UUID job = UUID.fromString("00000000-0000-0000-0000-000000000001");
        assertThat(RoundAggregator.stateKey(job, 3)).isEqualTo("models/state/00000000-0000-0000-0000-000000000001/3.fmss");
    }
}
