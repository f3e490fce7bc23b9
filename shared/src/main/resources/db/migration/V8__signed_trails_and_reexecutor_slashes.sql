-- The trail manifest's keccak as the worker signed it (EIP-712 Trail(task, manifestHash), carried with the submission) and
-- that signature. Set: trail_doc is the manifest file verify read at intake whose bytes hash to it (the snapshot every later
-- step uses), and an artifact under the worker's own prefix that it names is the worker's doing. NULL: a submission from a
-- worker that predates trail signatures: its manifest's file names are nobody's word, so an artifact problem only leaves the
-- update out.
ALTER TABLE submissions ADD COLUMN trail_hash TEXT;
ALTER TABLE submissions ADD COLUMN trail_signature TEXT;

-- A re-executor's end state (the object its answer names, checked to hash to the end hash it signed) and, when its signed
-- answer is proven false by two other drawn re-executors that agree with each other, the evidence document its slash carries
-- (keccak = the slash's evidence hash; a copy goes to evidence/<taskId>/<hash>.json).
ALTER TABLE reexec_requests ADD COLUMN end_uri TEXT;
ALTER TABLE reexec_requests ADD COLUMN evidence_doc TEXT;
