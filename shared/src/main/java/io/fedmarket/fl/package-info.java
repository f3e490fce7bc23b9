/**
 * Engine-independent federated-learning core of the marketplace: pure functions over
 * float32 parameter vectors that the GPU worker, the Quarkus functions and the benchmarks
 * call. Nothing here touches DJL, queues, S3 or the chain.
 * <ul>
 *   <li>{@code aggregation}: FedAvg, FedProx (server = FedAvg, client term {@code ProximalTerm}),
 *       FedAdam/FedYogi ({@code ServerOptimizer} + {@code ServerState} to persist per job),
 *       coordinate median, trimmed mean, (Multi-)Krum; {@code AggregationRegistry.create(name, params)}
 *       picks the rule named in an intent and explains bad names/parameters.</li>
 *   <li>{@code privacy}: client-side clip + seeded Gaussian noise, and an RDP accountant.</li>
 *   <li>{@code proof}: keccak hashing of parameters (float32 little-endian), the trail header
 *       a task fixes, the chained trail and its Merkle root. The worker builds
 *       {@code ProofTrail.build(header, checkpoints)} (or {@code fromHashes}) from its checkpoints.</li>
 *   <li>{@code verify}: the verification policy ({@code UpdateVerifier}): structural checks,
 *       cheap flags that escalate, segment sampling from submission hash + later block hash,
 *       bit-exact or calibrated comparison, {@code Verdict} with canonical JSON and evidence hash,
 *       dispute window.</li>
 *   <li>{@code payout}: cumulative payouts per address ({@code PayoutLedger}), idempotent by task id.</li>
 *   <li>{@code cheat}, {@code sim}, {@code bench}: cheating strategies, the plain-Java simulated
 *       job and the integrity benchmark built on them.</li>
 * </ul>
 */
package io.fedmarket.fl;
