package io.fedmarket.matching;

import java.math.BigInteger;

/**
 * One participant of a job: a data provider trained on one GPU of a GPU provider.
 *
 * @param dataProviderId      chosen data provider
 * @param gpuProviderId       GPU provider whose GPU trains on it
 * @param samplesPerRound     samples trained per round
 * @param gpuSecondsPerRound  expected GPU-seconds per round (measured speed, rounded up)
 * @param gpuSecondsTotal     over all rounds
 * @param expectedPayment     clearing price × gpuSecondsTotal: what the GPU provider is paid if every second is proven
 * @param expectedCompletion  data reliability × GPU reliability
 * @param regionFit           1 same region, 0.5 same continent, 0 otherwise
 * @param coverageGain        label coverage this participant added when chosen
 * @param explanation         why it was chosen, in words
 */
public record Assignment(String dataProviderId, String gpuProviderId, long samplesPerRound, long gpuSecondsPerRound,
                         long gpuSecondsTotal, BigInteger expectedPayment, double expectedCompletion, double regionFit,
                         double coverageGain, String explanation) {
}
