package io.fedmarket.fl.aggregation;

import io.fedmarket.fl.payout.PayoutLedger;
import io.fedmarket.fl.payout.TaskSettlement;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Randomised invariants over many generated rounds (seeded, so failures replay). */
class AggregationInvariantsTest {
    private static List<ClientUpdate> randomRound(Random r, int n, int d) {
        List<ClientUpdate> ups = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] p = new float[d];
            for (int j = 0; j < d; j++) {
                p[j] = (float) (r.nextGaussian() * (1 + r.nextInt(100)));
            }
            ups.add(new ClientUpdate("t" + i, p, 1 + r.nextInt(1000)));
        }
        return ups;
    }

    @Test
    void everyRuleStaysInsideTheCoordinateHullAndIgnoresOrder() {
        Random r = new Random(2024);
        List<AggregationRule> rules = List.of(new FedAvg(), new CoordinateMedian(), new TrimmedMean(0.2),
                new MultiKrum(1, 3));
        for (int trial = 0; trial < 300; trial++) {
            int n = 5 + r.nextInt(8);
            int d = 1 + r.nextInt(6);
            List<ClientUpdate> ups = randomRound(r, n, d);
            List<ClientUpdate> shuffled = new ArrayList<>(ups);
            Collections.shuffle(shuffled, r);
            for (AggregationRule rule : rules) {
                float[] a = rule.aggregate(new float[d], ups, ServerState.NONE).model();
                float[] b = rule.aggregate(new float[d], shuffled, ServerState.NONE).model();
                for (int j = 0; j < d; j++) {
                    float lo = Float.POSITIVE_INFINITY;
                    float hi = Float.NEGATIVE_INFINITY;
                    for (ClientUpdate u : ups) {
                        lo = Math.min(lo, u.parameters()[j]);
                        hi = Math.max(hi, u.parameters()[j]);
                    }
                    float tol = 1e-4f * Math.max(1, Math.abs(hi) + Math.abs(lo));
                    assertThat(a[j]).as(rule.name() + " coordinate " + j).isBetween(lo - tol, hi + tol);
                    assertThat(b[j]).as(rule.name() + " is order independent").isCloseTo(a[j],
                            org.assertj.core.api.Assertions.within(tol));
                }
            }
        }
    }

    @Test
    void payoutsNeverExceedTheBudgetAndReplaysChangeNothing() {
        Random r = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            BigInteger budget = BigInteger.valueOf(r.nextInt(50_000));
            PayoutLedger l = PayoutLedger.open(budget);
            List<List<TaskSettlement>> rounds = new ArrayList<>();
            for (int round = 0; round < 5; round++) {
                List<TaskSettlement> ts = new ArrayList<>();
                for (int i = 0; i < 1 + r.nextInt(6); i++) {
                    ts.add(new TaskSettlement("t" + r.nextInt(20), "0xg" + r.nextInt(4), "0xd" + r.nextInt(3),
                            r.nextInt(4) != 0, r.nextInt(300)));
                }
                rounds.add(ts);
                BigInteger before = l.totalPaid();
                PayoutLedger.Result res = l.settleRound(round, BigInteger.valueOf(1 + r.nextInt(20)), r.nextInt(10_001), ts);
                l = res.ledger();
                assertThat(l.totalPaid()).isLessThanOrEqualTo(budget);
                assertThat(l.totalPaid().subtract(before)).isEqualTo(res.report().paidThisRound());
                assertThat(l.cumulative().values().stream().reduce(BigInteger.ZERO, BigInteger::add))
                        .isEqualTo(l.totalPaid());
            }
            for (List<TaskSettlement> ts : rounds) {
                assertThat(l.settleRound(9, BigInteger.TEN, 100, ts).ledger()).isEqualTo(l);
            }
        }
    }
}
