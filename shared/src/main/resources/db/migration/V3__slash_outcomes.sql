-- A slash whose worker has nothing at stake any more when its dispute window ends (withdrawn, or slashed
-- already) is closed as NOTHING_TO_SLASH: no transaction, amount 0, never retried.
ALTER TABLE slashes DROP CONSTRAINT slashes_status_check;
ALTER TABLE slashes ADD CONSTRAINT slashes_status_check CHECK (status IN ('PENDING', 'POSTED', 'CANCELLED', 'NOTHING_TO_SLASH'));
CREATE INDEX slashes_task ON slashes (task_id);
