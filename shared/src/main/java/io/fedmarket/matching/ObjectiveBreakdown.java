package io.fedmarket.matching;

/**
 * The objective of a match by component; each component in [0, 1], {@code total} their weighted sum.
 *
 * @param coverage    Σ_label target share × min(1, chosen samples of the label / demanded samples of the label)
 * @param reliability Σ_participants expected completion / max participants
 * @param regionFit   Σ_participants region fit / max participants
 * @param costScore   1 − expected cost / budget
 * @param weights     the weights applied
 * @param total       weighted sum, the number the solver maximises
 */
public record ObjectiveBreakdown(double coverage, double reliability, double regionFit, double costScore, Weights weights,
                                 double total) {

    static ObjectiveBreakdown of(double coverage, double reliability, double regionFit, double costScore, Weights w) {
        double total = w.coverage() * coverage + w.reliability() * reliability + w.regionFit() * regionFit + w.cost() * costScore;
        return new ObjectiveBreakdown(coverage, reliability, regionFit, costScore, w, total);
    }
}
