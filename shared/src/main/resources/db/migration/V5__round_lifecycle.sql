-- The round lifecycle on the Lambda path: match fixes the job's plan, settle publishes round 1 once the escrow is on
-- chain, verify checks and draws, a different worker re-executes, judge decides, aggregate publishes the next round.

-- the builder's optional training and verification terms (JSON; null = io.fedmarket.fl.job.JobPlan's defaults)
ALTER TABLE intents ADD COLUMN training TEXT;
ALTER TABLE intents ADD COLUMN verification TEXT;

-- where a worker finds the shard it trains on: {"dataset","partition","clients","client","partitionSeed"} (JSON)
ALTER TABLE data_providers ADD COLUMN source TEXT;

-- the plan every task of the job is built from (io.fedmarket.fl.job.JobPlan as JSON), and when the escrow was seen
ALTER TABLE jobs ADD COLUMN plan TEXT;
ALTER TABLE jobs ADD COLUMN escrowed_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN finished_tx TEXT;
ALTER TABLE jobs ADD COLUMN status_reason TEXT;

-- a participant caught cheating is out of the job in every role from then on (its shard keeps being trained by others,
-- without a data share)
ALTER TABLE job_participants ADD COLUMN removed_at TIMESTAMPTZ;
ALTER TABLE job_participants ADD COLUMN removed_reason TEXT;

-- a task trains one data offer's shard; its message (TrainTask JSON) is kept in hyper_params
ALTER TABLE tasks ADD COLUMN data_provider UUID;
ALTER TABLE tasks ADD COLUMN data_owner TEXT;
ALTER TABLE tasks ADD COLUMN shard_index INTEGER;

-- verification of a recorded submission: RECORDED (intake done) -> DRAWN (segments out for re-execution) -> DECIDED
ALTER TABLE submissions ADD COLUMN trail_uri TEXT;
ALTER TABLE submissions ADD COLUMN stage TEXT NOT NULL DEFAULT 'RECORDED' CHECK (stage IN ('RECORDED', 'DRAWN', 'DECIDED'));
ALTER TABLE submissions ADD COLUMN draw_block BIGINT;
ALTER TABLE submissions ADD COLUMN draw_block_hash TEXT;
ALTER TABLE submissions ADD COLUMN segments TEXT;
ALTER TABLE submissions ADD COLUMN flags TEXT;
ALTER TABLE submissions ADD COLUMN submission_hash TEXT;

-- one re-execution of one segment by one worker: DRAW (the draw), RETRY (a re-executor failed or was too slow),
-- CONFIRM (a mismatch is re-executed by yet another worker before anything is rejected)
CREATE TABLE reexec_requests (
    id            TEXT PRIMARY KEY,
    task_id       TEXT NOT NULL REFERENCES tasks (id),
    segment       INTEGER NOT NULL,
    purpose       TEXT NOT NULL CHECK (purpose IN ('DRAW', 'RETRY', 'CONFIRM')),
    attempt       INTEGER NOT NULL,
    steps         INTEGER NOT NULL,
    exclude       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('SENT', 'MATCH', 'MISMATCH', 'ERROR', 'TIMED_OUT', 'DISREGARDED')),
    verifier      TEXT,
    end_hash      TEXT,
    distance      DOUBLE PRECISION,
    error         TEXT,
    signature     TEXT,
    wall_millis   BIGINT,
    requested_at  TIMESTAMPTZ NOT NULL,
    answered_at   TIMESTAMPTZ
);
CREATE INDEX reexec_requests_task ON reexec_requests (task_id);
