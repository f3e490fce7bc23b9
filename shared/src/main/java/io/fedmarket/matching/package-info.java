/**
 * Matching and pricing: the solver that turns an intent into a job. A pure library: no I/O, no clock, no threads;
 * the caller passes everything in, including {@code now}.
 *
 * <h2>How the {@code match} consumer calls it</h2>
 * <pre>{@code
 * MatchRequest request = MatchRequest.builder()
 *         .intentId(intent.id()).domain(intent.domain())
 *         .requiredLabels(intent.requiredLabels())              // List<String>
 *         .targetLabelDistribution(intent.targetShares())       // Map<String, Double>; empty = uniform over required labels
 *         .rounds(intent.rounds()).localEpochs(intent.localEpochs())   // or .localSteps(steps, batchSize)
 *         .participants(intent.minParticipants(), intent.maxParticipants())
 *         .budget(intent.budget())                              // BigInteger base units
 *         .maxPricePerGpuSecond(intent.maxPricePerGpuSecond())  // BigInteger base units
 *         .deadline(intent.deadline()).now(Instant.now())
 *         .requiredBond(intent.requiredBond())                  // BigInteger base units
 *         .weights(intent.weights() == null ? Weights.DEFAULT : intent.weights())
 *         .build();                                             // IllegalArgumentException with a fix-it message if inconsistent
 * MatchResult result = new MatchingSolver().solve(request, dataCandidates, gpuCandidates);
 * switch (result) {
 *     case Match m -> storeJob(m);           // m.assignments(): data provider, GPU provider, GPU-s, payment, explanation
 *                                            // m.clearingPricePerGpuSecond(), m.priceSetterId(), m.expectedCost(),
 *                                            // m.objective() (breakdown), m.priceExplanation()
 *     case NoMatch n -> rejectIntent(n);     // n.reason() (enum), n.required(), n.available(), n.unit(), n.message()
 * }
 * }</pre>
 * Candidates: {@link io.fedmarket.matching.DataCandidate} (id, domain, region, sample count, label histogram, bond,
 * last slash, {@link io.fedmarket.matching.ReliabilityStats}) and {@link io.fedmarket.matching.GpuCandidate} (id,
 * region, GPUs offered, ask per GPU-second, measured samples/s, bond, last slash, reliability). Pass every registered
 * provider: the solver applies the per-provider hard constraints itself, so that a {@code NoMatch} can say which one
 * excluded how many. Ids must be unique per role.
 *
 * <p>Fast path: {@code MarketSnapshot market = MarketSnapshot.of(dataCandidates, gpuCandidates)} compiles the
 * providers into primitive columns once (about as long as one solve from lists: it is the pointer chasing over the
 * candidate objects); {@code solver.solve(request, market)} then reads only flat arrays. A warm consumer can keep the
 * snapshot and rebuild it when a provider registers, bonds, is slashed or changes its ask; both paths give equal
 * results.
 *
 * <p>Re-matching: {@code solver.rematch(request, existingMatch, droppedProviderId, data, gpus)} with the dropped
 * provider's id (data or GPU). The other participants' {@link io.fedmarket.matching.Assignment}s come back unchanged
 * (equal records) and the clearing price stays the job's; the result is a {@code Match} or a {@code NoMatch} with reason
 * {@code NO_REPLACEMENT}. Pass an updated request (remaining rounds, new {@code now}) when the job is under way.
 *
 * <h2>Model</h2>
 * <ul>
 * <li>A participant is one data provider trained on one GPU of one GPU provider; a GPU provider with capacity c hosts at
 * most c participants. Work per round = local epochs × samples (or local steps × batch); GPU-seconds per round =
 * ceil(work / measured samples per second).</li>
 * <li>Hard constraints: domain; bond ≥ required and no slash within {@code slashCooldown} (both roles); holds a target
 * label; every required label covered by the union; min ≤ participants ≤ max; per pair, GPU-seconds per round ≤ the
 * training time per round ((deadline − now) / rounds − overhead); GPU capacity; ask ≤ builder's max; cost =
 * clearing price × total GPU-seconds ≤ budget.</li>
 * <li>Objective (each component in [0, 1], weights normalised): coverage Σ_l share_l · min(1, chosen samples of l /
 * (share_l · target samples)), a monotone submodular function; reliability Σ completion(data) · completion(GPU) / max;
 * region fit Σ fit / max (1 same region, ½ same continent, 0 else); cost score 1 − cost / budget.</li>
 * <li>Price: uniform-price reverse auction. Every chosen GPU provider is paid the clearing price per proven GPU-second:
 * the lowest ask among eligible GPU providers not chosen that is at least the highest chosen ask, capped by the builder's
 * max (the max when there is none). Nobody is paid below its ask, and a provider's own ask does not set its pay unless
 * it is rejected, which is what makes asking one's true cost the best strategy.</li>
 * </ul>
 *
 * <h2>Algorithm</h2>
 * The price couples everyone, so the solver tries price levels: for a level set by a would-be rejected ask τ, the pool
 * is every eligible GPU asking less than τ, and the job is planned at price τ (the true clearing price can only be
 * lower). Per level: a GPU shortlist per region keeps only GPUs that fewer than max-participants GPUs dominate in speed
 * and reliability (exact pruning); a lazy greedy (Minoux) adds the data provider with the largest marginal gain
 * (coverage gain + best free GPU's pair value), which for the coverage term is the (1 − 1/e) greedy of
 * Nemhauser–Wolsey–Fisher. Small markets try every level; large ones every other level then the neighbours of the best.
 * A local search (take one out, refill greedily, keep if the true objective improves) polishes the best passes; a
 * cost-first pass and a one-step GPU move repair a greedy that stalls below the minimum. {@link
 * io.fedmarket.matching.ExactSolver} enumerates every assignment of small instances as the yard-stick, and {@code
 * io.fedmarket.matching.bench.MatchBenchmark} measures latency, allocation and the gap.
 */
package io.fedmarket.matching;
