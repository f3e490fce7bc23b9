-- The marketplace's own tables: accounts and roles, sign-in nonces, intents, providers, bonds mirrored
-- from chain, jobs/rounds/tasks/submissions/verdicts, payouts and slashes, the outbox, consumer
-- idempotency keys and the chain cursor. Money is NUMERIC(78,0) (uint256 base units); time is TIMESTAMPTZ (UTC).
-- Addresses are stored lower-case 0x-hex so lookups never depend on EIP-55 casing.

CREATE TABLE accounts (
    address     TEXT PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE account_roles (
    address     TEXT NOT NULL REFERENCES accounts (address),
    role        TEXT NOT NULL CHECK (role IN ('builder', 'provider', 'verifier', 'operator')),
    granted_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (address, role)
);

-- One row per SIWE challenge; used_at set once, so a replayed message is refused.
CREATE TABLE siwe_nonces (
    nonce       TEXT PRIMARY KEY,
    address     TEXT NOT NULL CHECK (address ~ '^0x[0-9a-f]{40}$'),
    message     TEXT NOT NULL,
    issued_at   TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX siwe_nonces_expires ON siwe_nonces (expires_at);

CREATE TABLE intents (
    id                        UUID PRIMARY KEY,
    builder                   TEXT NOT NULL CHECK (builder ~ '^0x[0-9a-f]{40}$'),
    status                    TEXT NOT NULL CHECK (status IN ('SUBMITTED', 'MATCHING', 'MATCHED', 'UNMATCHED', 'RUNNING', 'COMPLETED', 'CANCELLED')),
    status_reason             TEXT,
    model_architecture        TEXT NOT NULL,
    model_input_shape         TEXT NOT NULL,
    model_num_classes         INTEGER NOT NULL CHECK (model_num_classes BETWEEN 2 AND 100000),
    data_domain               TEXT NOT NULL,
    required_labels           TEXT NOT NULL,
    rounds                    INTEGER NOT NULL CHECK (rounds BETWEEN 1 AND 1000),
    local_epochs              INTEGER NOT NULL CHECK (local_epochs BETWEEN 1 AND 100),
    min_participants          INTEGER NOT NULL CHECK (min_participants >= 1),
    max_participants          INTEGER NOT NULL CHECK (max_participants >= min_participants),
    budget                    NUMERIC(78, 0) NOT NULL CHECK (budget > 0),
    max_price_per_gpu_second  NUMERIC(78, 0) NOT NULL CHECK (max_price_per_gpu_second > 0),
    deadline                  TIMESTAMPTZ NOT NULL,
    privacy_mode              TEXT NOT NULL CHECK (privacy_mode IN ('NONE', 'DP')),
    dp_epsilon                DOUBLE PRECISION,
    dp_delta                  DOUBLE PRECISION,
    aggregation               TEXT NOT NULL,
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL,
    version                   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX intents_builder_created ON intents (builder, created_at DESC);

CREATE TABLE gpu_providers (
    id                  UUID PRIMARY KEY,
    owner               TEXT NOT NULL CHECK (owner ~ '^0x[0-9a-f]{40}$'),
    name                TEXT NOT NULL,
    gpu_model           TEXT NOT NULL,
    gpu_count           INTEGER NOT NULL CHECK (gpu_count BETWEEN 1 AND 4096),
    gpu_memory_gib      INTEGER NOT NULL CHECK (gpu_memory_gib BETWEEN 1 AND 4096),
    ask_per_gpu_second  NUMERIC(78, 0) NOT NULL CHECK (ask_per_gpu_second > 0),
    region              TEXT NOT NULL,
    -- measured training speed of one GPU (samples/s) on the reference model; 0 until measured
    samples_per_second  DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (samples_per_second >= 0),
    assigned_tasks      BIGINT NOT NULL DEFAULT 0,
    completed_tasks     BIGINT NOT NULL DEFAULT 0,
    verifications_run   BIGINT NOT NULL DEFAULT 0,
    verifications_passed BIGINT NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (owner, name)
);

CREATE TABLE data_providers (
    id               UUID PRIMARY KEY,
    owner            TEXT NOT NULL CHECK (owner ~ '^0x[0-9a-f]{40}$'),
    name             TEXT NOT NULL,
    domain           TEXT NOT NULL,
    region           TEXT NOT NULL,
    assigned_tasks   BIGINT NOT NULL DEFAULT 0,
    completed_tasks  BIGINT NOT NULL DEFAULT 0,
    sample_count     BIGINT NOT NULL CHECK (sample_count > 0),
    label_histogram  TEXT NOT NULL,
    dataset_root     TEXT NOT NULL CHECK (dataset_root ~ '^0x[0-9a-f]{64}$'),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (owner, name)
);
CREATE INDEX data_providers_domain ON data_providers (domain);

-- Bond state per address, mirrored from chain events by the chainSync consumer.
CREATE TABLE bonds (
    address        TEXT PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    amount         NUMERIC(78, 0) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    unbonding      NUMERIC(78, 0) NOT NULL DEFAULT 0 CHECK (unbonding >= 0),
    unbonding_at   TIMESTAMPTZ,
    slashed_total  NUMERIC(78, 0) NOT NULL DEFAULT 0 CHECK (slashed_total >= 0),
    last_slashed_at TIMESTAMPTZ,
    block_number   BIGINT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- Every chain event applied, keyed by its position: a redelivered event changes nothing.
CREATE TABLE chain_events (
    tx_hash       TEXT NOT NULL,
    log_index     INTEGER NOT NULL,
    block_number  BIGINT NOT NULL,
    block_hash    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    address       TEXT NOT NULL,
    amount        NUMERIC(78, 0) NOT NULL,
    applied_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tx_hash, log_index)
);

CREATE TABLE chain_cursor (
    name          TEXT PRIMARY KEY,
    block_number  BIGINT NOT NULL,
    block_hash    TEXT,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE jobs (
    id                             UUID PRIMARY KEY,
    intent_id                      UUID NOT NULL UNIQUE REFERENCES intents (id),
    builder                        TEXT NOT NULL,
    status                         TEXT NOT NULL CHECK (status IN ('OPEN', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    clearing_price_per_gpu_second  NUMERIC(78, 0),
    escrow_id                      TEXT,
    explanation                    TEXT,
    current_round                  INTEGER NOT NULL DEFAULT 0,
    created_at                     TIMESTAMPTZ NOT NULL,
    updated_at                     TIMESTAMPTZ NOT NULL
);

CREATE TABLE job_participants (
    job_id       UUID NOT NULL REFERENCES jobs (id),
    provider_id  UUID NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('GPU', 'DATA')),
    address      TEXT NOT NULL,
    reason       TEXT,
    PRIMARY KEY (job_id, provider_id)
);

CREATE TABLE rounds (
    job_id             UUID NOT NULL REFERENCES jobs (id),
    round_no           INTEGER NOT NULL CHECK (round_no >= 1),
    status             TEXT NOT NULL CHECK (status IN ('OPEN', 'CLOSED', 'SETTLED')),
    global_model_hash  TEXT,
    min_updates        INTEGER NOT NULL,
    deadline           TIMESTAMPTZ NOT NULL,
    closed_at          TIMESTAMPTZ,
    PRIMARY KEY (job_id, round_no)
);

-- task ids are the worker messages' string ids (TrainTask.taskId)
CREATE TABLE tasks (
    id            TEXT PRIMARY KEY,
    job_id        UUID NOT NULL,
    round_no      INTEGER NOT NULL,
    worker        TEXT NOT NULL,
    shard         TEXT NOT NULL,
    seed          BIGINT NOT NULL,
    hyper_params  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('OFFERED', 'RUNNING', 'SUBMITTED', 'ACCEPTED', 'REJECTED', 'DROPPED')),
    created_at    TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (job_id, round_no) REFERENCES rounds (job_id, round_no)
);
CREATE INDEX tasks_round ON tasks (job_id, round_no);

CREATE TABLE submissions (
    task_id       TEXT PRIMARY KEY REFERENCES tasks (id),
    worker        TEXT NOT NULL,
    update_uri    TEXT NOT NULL,
    update_hash   TEXT NOT NULL,
    proof_root    TEXT NOT NULL,
    steps         INTEGER NOT NULL,
    gpu_seconds   BIGINT NOT NULL CHECK (gpu_seconds >= 0),
    signature     TEXT NOT NULL,
    submitted_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE verdicts (
    task_id     TEXT PRIMARY KEY REFERENCES tasks (id),
    job_id      UUID NOT NULL,
    round_no    INTEGER NOT NULL,
    accepted    BOOLEAN NOT NULL,
    reason      TEXT,
    evidence    TEXT,
    decided_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX verdicts_round ON verdicts (job_id, round_no);

-- Cumulative payout per address after a round; proof is the Merkle path for the claim.
CREATE TABLE payouts (
    job_id      UUID NOT NULL REFERENCES jobs (id),
    round_no    INTEGER NOT NULL,
    address     TEXT NOT NULL,
    cumulative  NUMERIC(78, 0) NOT NULL CHECK (cumulative >= 0),
    proof       TEXT NOT NULL,
    PRIMARY KEY (job_id, round_no, address)
);

CREATE TABLE payout_roots (
    job_id       UUID NOT NULL REFERENCES jobs (id),
    round_no     INTEGER NOT NULL,
    model_hash   TEXT NOT NULL,
    payout_root  TEXT NOT NULL,
    tx_hash      TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_id, round_no)
);

CREATE TABLE slashes (
    id             UUID PRIMARY KEY,
    job_id         UUID NOT NULL REFERENCES jobs (id),
    round_no       INTEGER NOT NULL,
    task_id        TEXT,
    address        TEXT NOT NULL,
    amount         NUMERIC(78, 0) NOT NULL CHECK (amount >= 0),
    evidence_hash  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('PENDING', 'POSTED', 'CANCELLED')),
    dispute_until  TIMESTAMPTZ NOT NULL,
    tx_hash        TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);

-- Transactional outbox: a row is written in the same transaction as the business change and
-- sent to its queue by the relay afterwards; sent_at marks it done. dedup_key makes a double
-- write of the same business event impossible.
CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    queue_key   TEXT NOT NULL,
    dedup_key   TEXT NOT NULL UNIQUE,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;

-- Consumer idempotency on the business key (not the SQS message id).
CREATE TABLE processed_messages (
    consumer      TEXT NOT NULL,
    business_key  TEXT NOT NULL,
    processed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, business_key)
);
