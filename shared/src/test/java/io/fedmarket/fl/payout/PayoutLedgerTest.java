package io.fedmarket.fl.payout;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PayoutLedgerTest {
    static final BigInteger PRICE = BigInteger.valueOf(7);

    @Test
    void paysProvenSecondsPlusDataShareRoundingDownAndAccumulates() {
        PayoutLedger l = PayoutLedger.open(BigInteger.valueOf(1_000_000));
        PayoutLedger.Result r1 = l.settleRound(0, PRICE, 1_500, List.of(
                new TaskSettlement("t1", "0xgpuA", "0xdata1", true, 101),
                new TaskSettlement("t2", "0xgpuB", "0xdata2", false, 500),
                new TaskSettlement("t3", "0xgpuA", "0xdata2", true, 3)));
        // t1: 7·101 = 707; data ⌊707·0.15⌋ = ⌊106.05⌋ = 106. t3: 21, data ⌊3.15⌋ = 3. t2 rejected: nothing
        assertThat(r1.ledger().of("0xgpuA")).isEqualTo(BigInteger.valueOf(728));
        assertThat(r1.ledger().of("0xdata1")).isEqualTo(BigInteger.valueOf(106));
        assertThat(r1.ledger().of("0xdata2")).isEqualTo(BigInteger.valueOf(3));
        assertThat(r1.ledger().of("0xgpuB")).isEqualTo(BigInteger.ZERO);
        assertThat(r1.report().paidThisRound()).isEqualTo(BigInteger.valueOf(837));
        assertThat(r1.report().rejectedTaskIds()).containsExactly("t2");
        PayoutLedger.Result r2 = r1.ledger().settleRound(1, PRICE, 1_500, List.of(
                new TaskSettlement("t4", "0xgpuB", "0xdata1", true, 10)));
        assertThat(r2.ledger().of("0xgpuB")).isEqualTo(BigInteger.valueOf(70));
        assertThat(r2.ledger().of("0xdata1")).isEqualTo(BigInteger.valueOf(116));
        assertThat(r2.ledger().totalPaid()).isEqualTo(BigInteger.valueOf(837 + 70 + 10));
    }

    @Test
    void neverPaysTheSameTaskTwice() {
        TaskSettlement t = new TaskSettlement("t1", "0xgpu", "0xdata", true, 10);
        PayoutLedger.Result r1 = PayoutLedger.open(BigInteger.valueOf(10_000)).settleRound(0, PRICE, 0, List.of(t, t));
        assertThat(r1.ledger().of("0xgpu")).isEqualTo(BigInteger.valueOf(70));
        assertThat(r1.report().duplicateTaskIds()).containsExactly("t1");
        PayoutLedger.Result again = r1.ledger().settleRound(0, PRICE, 0, List.of(t));
        assertThat(again.ledger()).isEqualTo(r1.ledger());
        assertThat(again.report().paidThisRound()).isZero();
        // a rejected task cannot be paid later either
        PayoutLedger.Result rej = PayoutLedger.open(BigInteger.valueOf(10_000)).settleRound(0, PRICE, 0,
                List.of(new TaskSettlement("t9", "0xgpu", null, false, 10)));
        assertThat(rej.ledger().settleRound(1, PRICE, 0, List.of(new TaskSettlement("t9", "0xgpu", null, true, 10)))
                .ledger().of("0xgpu")).isZero();
    }

    @Test
    void clipsAtTheEscrowBudgetAndReportsTheShortfall() {
        PayoutLedger l = PayoutLedger.open(BigInteger.valueOf(100));
        PayoutLedger.Result r = l.settleRound(0, PRICE, 5_000, List.of(
                new TaskSettlement("a", "0xg1", "0xd1", true, 10),   // 70 + 35
                new TaskSettlement("b", "0xg2", "0xd2", true, 10))); // 70 + 35
        assertThat(r.ledger().of("0xg1")).isEqualTo(BigInteger.valueOf(70));
        assertThat(r.ledger().of("0xd1")).isEqualTo(BigInteger.valueOf(30));
        assertThat(r.ledger().of("0xg2")).isZero();
        assertThat(r.ledger().totalPaid()).isEqualTo(BigInteger.valueOf(100));
        assertThat(r.ledger().remaining()).isZero();
        assertThat(r.report().clippedTaskIds()).containsExactly("a", "b");
        assertThat(r.report().shortfall()).isEqualTo(BigInteger.valueOf(5 + 105));
    }

    @Test
    void explainsBadInput() {
        PayoutLedger l = PayoutLedger.open(BigInteger.TEN);
        assertThatThrownBy(() -> l.settleRound(0, PRICE, 10_001, List.of())).hasMessageContaining("basis points");
        assertThatThrownBy(() -> l.settleRound(0, BigInteger.valueOf(-1), 0, List.of()))
                .hasMessageContaining("clearing price");
        assertThatThrownBy(() -> new TaskSettlement("t", "0xg", null, true, -1)).hasMessageContaining("GPU-seconds");
        assertThatThrownBy(() -> PayoutLedger.open(BigInteger.valueOf(-1))).hasMessageContaining("budget");
    }
}
