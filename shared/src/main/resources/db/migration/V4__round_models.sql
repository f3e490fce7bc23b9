-- The models a round trains from and produces, as artifact keys (content-addressed, models/<keccak>.fmck):
-- start_model_uri is set when the round's tasks are published; global_model_uri and global_model_hash
-- (ParameterHasher over the parameters, what postRound records) when the aggregate function has run.
ALTER TABLE rounds ADD COLUMN start_model_uri TEXT;
ALTER TABLE rounds ADD COLUMN global_model_uri TEXT;
-- FedAvg weights each accepted update by the samples it trained on
ALTER TABLE submissions ADD COLUMN sample_count INTEGER NOT NULL DEFAULT 1 CHECK (sample_count >= 1);
