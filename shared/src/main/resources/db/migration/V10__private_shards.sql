-- Private data: a round publishes no task for a private shard none of whose workers is left in the job (nobody else may
-- train it); the round closes at its quorum and names the shards it went without, here, as JSON
-- [{"dataProvider": "<uuid>", "owner": "0x…", "reason": "…"}]; NULL when none was missing.
ALTER TABLE rounds ADD COLUMN missing_shards TEXT;
