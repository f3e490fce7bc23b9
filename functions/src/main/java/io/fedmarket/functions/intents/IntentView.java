package io.fedmarket.functions.intents;

import io.fedmarket.functions.http.Json;
import io.fedmarket.model.Addresses;

import java.util.List;

/** An intent as the API shows it: money as decimal strings, time as ISO-8601 UTC. */
public record IntentView(String id, String builder, String status, String statusReason, Model model, String dataDomain,
                         List<String> requiredLabels, int rounds, int localEpochs, int minParticipants, int maxParticipants,
                         String budget, String maxPricePerGpuSecond, String deadline, Privacy privacy, String aggregation,
                         io.fedmarket.fl.job.JobPlan.Training training, io.fedmarket.fl.job.JobPlan.Verification verification,
                         String createdAt, String updatedAt, java.util.Map<String, Object> aggregationParams) {

    /** {@code spec}: the catalogue spec the builder named (e.g. {@code resnet:20}), or null for the architecture's default. */
    public record Model(String architecture, List<Integer> inputShape, int numClasses, String spec) {
        static Model of(String stored, List<Integer> inputShape, int numClasses) {
            // a catalogue spec is stored in place of the architecture name (lower case, e.g. resnet:20); the name is upper case
            boolean spec = !stored.equals(stored.toUpperCase(java.util.Locale.ROOT));
            String arch = spec ? stored.split(":")[0].toUpperCase(java.util.Locale.ROOT) : stored;
            return new Model(arch, inputShape, numClasses, spec ? stored : null);
        }
    }

    public record Privacy(String mode, Double epsilon, Double delta) {
    }

    public record Page(List<IntentView> intents) {
    }

    @SuppressWarnings("unchecked")
    static IntentView of(IntentEntity e) {
        return new IntentView(e.id.toString(), Addresses.checksummed(e.builder), e.status.name(), e.statusReason,
                Model.of(e.modelArchitecture, Json.parse(e.modelInputShape, List.class), e.modelNumClasses), e.dataDomain,
                Json.parse(e.requiredLabels, List.class), e.rounds, e.localEpochs, e.minParticipants, e.maxParticipants,
                e.budget.toString(), e.maxPricePerGpuSecond.toString(), e.deadline.toString(),
                new Privacy(e.privacyMode, e.dpEpsilon, e.dpDelta), e.aggregation,
                e.training == null ? null : Json.parse(e.training, io.fedmarket.fl.job.JobPlan.Training.class),
                e.verification == null ? null : Json.parse(e.verification, io.fedmarket.fl.job.JobPlan.Verification.class),
                e.createdAt.toString(), e.updatedAt.toString(), e.aggregationParams == null ? null : Json.parse(e.aggregationParams, java.util.Map.class));
    }
}
