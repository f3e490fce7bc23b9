package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.ChainSync.class)
@WithTestResource(TestStack.class)
class ChainSyncFunctionTest {
    static final String QUEUE = Queues.get().byKey(Queues.CHAIN_EVENTS).name();

    static String ev(String kind, String address, long amount, long block, String tx, int log) {
        return "{\"kind\":\"" + kind + "\",\"address\":\"" + address + "\",\"amount\":" + amount + ",\"blockNumber\":" + block
                + ",\"blockHash\":\"0x" + Long.toHexString(block) + "\",\"txHash\":\"" + tx + "\",\"logIndex\":" + log + ",\"timestamp\":1764000000}";
    }

    static String bond(String address) throws Exception {
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select amount || '/' || unbonding || '/' || slashed_total from bonds where address = '" + address.toLowerCase() + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Test
    void mirrorsBondEventsOnceEach() throws Exception {
        String a = Api.address(Api.newKey());
        String tx = "0x" + Long.toHexString(System.nanoTime());
        SqsEvents.Rec bonded = SqsEvents.Rec.of(ev("BONDED", a, 1000, 10, tx, 0));
        SqsEvents.Rec unbond = SqsEvents.Rec.of(ev("UNBOND_REQUESTED", a, 300, 11, tx + "1", 0));
        SqsEvents.Rec slash = SqsEvents.Rec.of(ev("SLASHED", a, 200, 12, tx + "2", 3));
        assertThat(SqsEvents.invoke(QUEUE, List.of(bonded, unbond, slash))).isEmpty();
        assertThat(bond(a)).isEqualTo("500/300/200");
        // the whole batch redelivered: nothing applied twice
        assertThat(SqsEvents.invoke(QUEUE, List.of(bonded, unbond, slash))).isEmpty();
        assertThat(bond(a)).isEqualTo("500/300/200");
    }

    @Test
    void anEventThatWouldMakeABondNegativeFailsAloneAndChangesNothing() throws Exception {
        String a = Api.address(Api.newKey());
        String b = Api.address(Api.newKey());
        String tx = "0x" + Long.toHexString(System.nanoTime());
        SqsEvents.Rec ok = SqsEvents.Rec.of(ev("BONDED", b, 70, 20, tx, 0));
        SqsEvents.Rec bad = SqsEvents.Rec.of(ev("SLASHED", a, 5, 20, tx, 1));
        SqsEvents.Rec garbage = SqsEvents.Rec.of("{\"kind\":\"MINTED\"}");
        assertThat(SqsEvents.invoke(QUEUE, List.of(ok, bad, garbage))).containsExactlyInAnyOrder(bad.messageId(), garbage.messageId());
        assertThat(bond(b)).isEqualTo("70/0/0");
        assertThat(bond(a)).isNull();
    }
}
