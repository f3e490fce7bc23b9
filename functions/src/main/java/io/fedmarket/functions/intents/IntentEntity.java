package io.fedmarket.functions.intents;

import io.fedmarket.model.IntentStatus;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;

import java.math.BigInteger;
import java.time.Instant;
import java.util.UUID;

/** Row of {@code intents}; the builder's address is lower-case. */
@Entity
@Table(name = "intents")
public class IntentEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    public String builder;
    @Enumerated(EnumType.STRING)
    public IntentStatus status;
    @Column(name = "status_reason")
    public String statusReason;
    @Column(name = "model_architecture")
    public String modelArchitecture;
    @Column(name = "model_input_shape")
    public String modelInputShape;
    @Column(name = "model_num_classes")
    public int modelNumClasses;
    @Column(name = "data_domain")
    public String dataDomain;
    @Column(name = "required_labels")
    public String requiredLabels;
    public int rounds;
    @Column(name = "local_epochs")
    public int localEpochs;
    @Column(name = "min_participants")
    public int minParticipants;
    @Column(name = "max_participants")
    public int maxParticipants;
    @Column(precision = 78, scale = 0)
    public BigInteger budget;
    @Column(name = "max_price_per_gpu_second", precision = 78, scale = 0)
    public BigInteger maxPricePerGpuSecond;
    public Instant deadline;
    @Column(name = "privacy_mode")
    public String privacyMode;
    @Column(name = "dp_epsilon")
    public Double dpEpsilon;
    @Column(name = "dp_delta")
    public Double dpDelta;
    public String aggregation;
    /** The rule's parameters as a JSON object, or null for its defaults. */
    @Column(name = "aggregation_params")
    public String aggregationParams;
    /** JobPlan.Training as JSON, or null for the defaults. */
    public String training;
    /** JobPlan.Verification as JSON, or null for the defaults. */
    public String verification;
    @Column(name = "created_at")
    public Instant createdAt;
    @Column(name = "updated_at")
    public Instant updatedAt;
    @Version
    public long version;
}
