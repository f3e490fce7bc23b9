package io.fedmarket.functions.intents;

import io.fedmarket.model.ModelArchitecture;
import io.fedmarket.model.PrivacyMode;

import java.time.Instant;
import java.util.List;

/**
 * The body of POST /intents. Money fields are decimal strings of token base units (uint256 does not
 * fit a JSON number safely). Every field is required except privacy.epsilon/delta, which DP needs, and the optional
 * {@code training} (batch size, learning rate, momentum, local steps, FedProx μ, threads, DP clip) and
 * {@code verification} (target detection probability, faked fraction to catch, largest re-execution share, comparison
 * and tolerance) objects, whose left-out fields take {@link io.fedmarket.fl.job.JobPlan}'s defaults, and the aggregation rule's
 * optional {@code aggregationParams} (e.g. {@code {"f": 1, "m": 5}} for multi-krum; see
 * {@link io.fedmarket.fl.aggregation.AggregationRegistry}).
 */
public record SubmitIntentRequest(ModelSpec model, String dataDomain, List<String> requiredLabels, Integer rounds,
                                  Integer localEpochs, Integer minParticipants, Integer maxParticipants, String budget,
                                  String maxPricePerGpuSecond, Instant deadline, Privacy privacy, String aggregation,
                                  io.fedmarket.fl.job.JobPlan.Training training, io.fedmarket.fl.job.JobPlan.Verification verification,
                                  java.util.Map<String, Object> aggregationParams) {

    /**
     * @param architecture MLP, CNN or RESNET
     * @param inputShape   [features] (tabular, MLP), [height, width] or [channels, height, width]
     * @param numClasses   number of classes, 2..100000
     * @param spec         optional catalogue spec of that architecture: {@code mlp:H1,H2,…} (hidden widths) or {@code resnet:D}
     *                     (depth; default 20); left out: {@code mlp} (one hidden layer of 128), {@code cnn}, {@code resnet:20}
     */
    public record ModelSpec(ModelArchitecture architecture, List<Integer> inputShape, Integer numClasses, String spec) {
        public ModelSpec(ModelArchitecture architecture, List<Integer> inputShape, Integer numClasses) {
            this(architecture, inputShape, numClasses, null);
        }
    }

    public record Privacy(PrivacyMode mode, Double epsilon, Double delta) {
    }
}
