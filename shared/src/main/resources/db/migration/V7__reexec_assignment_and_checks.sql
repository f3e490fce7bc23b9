-- The bonded worker drawn to re-execute a segment (verify draws it from the job's live GPU participants and the bonded
-- verifier nodes with randomness the submitter could not know); only its answer counts. NULL: nobody was eligible, any
-- bonded worker other than the excluded ones may answer.
ALTER TABLE reexec_requests ADD COLUMN assignee TEXT;

-- The cheap checks of a submission as measured by verify (update norm, cosine to the round's robust centre, loss and
-- accuracy on the builder's validation split, the flags they raised), kept with the submission for the job's record.
ALTER TABLE submissions ADD COLUMN update_norm DOUBLE PRECISION;
ALTER TABLE submissions ADD COLUMN validation_loss DOUBLE PRECISION;
ALTER TABLE submissions ADD COLUMN checks TEXT;

-- The parameters of the intent's aggregation rule (JSON object, e.g. {"f": 1, "m": 5} for multi-krum), checked at intake.
ALTER TABLE intents ADD COLUMN aggregation_params TEXT;

-- The trail manifest as verify checked it against the signed proof root when it drew the segments: the judge and the
-- timeout pass read this copy, never the bucket's again (the manifest's file name is not signed and workers share the
-- bucket, so a copy replaced or deleted after the draw must change nothing).
ALTER TABLE submissions ADD COLUMN trail_doc TEXT;
