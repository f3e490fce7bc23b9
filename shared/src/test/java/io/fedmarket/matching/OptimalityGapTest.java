package io.fedmarket.matching;

import io.fedmarket.matching.bench.InstanceGenerator;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The fast solver against exact enumeration on small seeded instances: the acceptance's optimality gap. */
class OptimalityGapTest {

    @Test
    void meanGapAgainstExactIsAtMostTwoPercentOnOver100Instances() {
        MatchingSolver fast = new MatchingSolver();
        ExactSolver exact = new ExactSolver();
        int compared = 0;
        double sumGap = 0;
        for (long seed = 0; seed < 140; seed++) {
            InstanceGenerator.Instance in = InstanceGenerator.small(seed);
            MatchResult e = exact.solve(in.request(), in.data(), in.gpus());
            MatchResult f = fast.solve(in.request(), in.data(), in.gpus());
            if (e instanceof NoMatch) {
                // exact proves nothing fits, so the fast solver must not claim a match either
                assertThat(f).as("seed %d", seed).isInstanceOf(NoMatch.class);
                continue;
            }
            Match em = (Match) e;
            assertThat(Constraints.violations(in.request(), in.data(), in.gpus(), em, true)).as("exact, seed %d", seed).isEmpty();
            double opt = em.objective().total();
            double got = f instanceof Match fm ? fm.objective().total() : 0;
            // exact is exact: the fast solver may tie it, never beat it
            assertThat(got).as("seed %d", seed).isLessThanOrEqualTo(opt + 1e-9);
            sumGap += (opt - got) / opt;
            compared++;
        }
        assertThat(compared).isGreaterThanOrEqualTo(100);
        double meanGap = sumGap / compared;
        assertThat(meanGap).as("mean optimality gap over %d instances", compared).isLessThanOrEqualTo(0.02);
    }

    @Test
    void onCoverageAloneTheGreedyKeepsItsOneMinusOneOverEGuarantee() {
        MatchingSolver fast = new MatchingSolver();
        ExactSolver exact = new ExactSolver();
        int compared = 0;
        for (long seed = 0; seed < 100; seed++) {
            InstanceGenerator.Instance in = InstanceGenerator.small(seed);
            // coverage only, budget out of the way: what is left is a submodular maximisation under a cardinality limit
            // (plus GPU capacity and deadline), where greedy is guaranteed 1 - 1/e of the optimum
            MatchRequest r = in.request().toBuilder().weights(new Weights(1, 0, 0, 0))
                    .budget(in.request().budget().multiply(BigInteger.valueOf(100))).build();
            if (!(exact.solve(r, in.data(), in.gpus()) instanceof Match em)) {
                continue;
            }
            Match fm = (Match) fast.solve(r, in.data(), in.gpus());
            assertThat(fm.objective().coverage()).as("seed %d", seed).isGreaterThanOrEqualTo((1 - 1 / Math.E) * em.objective().coverage());
            compared++;
        }
        assertThat(compared).isGreaterThanOrEqualTo(80);
    }
}
