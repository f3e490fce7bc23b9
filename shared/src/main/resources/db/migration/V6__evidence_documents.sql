-- A rejection's verdict document (canonical JSON; its keccak is the evidence hash a slash carries), kept with the decision in
-- the same transaction; the bucket's copy at evidence/<taskId>/<hash>.json is written after the commit.
ALTER TABLE submissions ADD COLUMN evidence_doc TEXT;

-- The outbox relay claims rows before it sends them (claimed_until), so two functions relaying at once never send the same row
-- twice; a claim left by a relay that crashed expires and the row is sent by the next one.
ALTER TABLE outbox ADD COLUMN claimed_until TIMESTAMPTZ;
