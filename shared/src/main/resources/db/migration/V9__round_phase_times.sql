-- Where a round's time goes (./mkt bench rounds, the demo's report): the instants between a round's publish and the next
-- one's that no other row holds. Observations only: nothing decides anything from them, and a submission from a worker
-- that reports no timings simply has NULL worker instants (its round then has no worker-side phases).
--   worker_received_at  the worker took the task message off the queue (worker's clock, reported with the submission)
--   worker_trained_at   the worker finished training, before the update, manifest and signatures went to the bucket
--   worker_sent_at      the worker sent the submission to the submissions queue
--   recorded_at         verify recorded the submission (intake), the marketplace's clock
--   drawn_at            verify drew the segments (the draw's block was mined) and sent them for re-execution
--   train_millis        the worker's pure training time (the SGD steps), as it reports it: a round's coordination overhead is
--                       its wall time less the longest of these
ALTER TABLE submissions ADD COLUMN worker_received_at TIMESTAMPTZ;
ALTER TABLE submissions ADD COLUMN worker_trained_at TIMESTAMPTZ;
ALTER TABLE submissions ADD COLUMN worker_sent_at TIMESTAMPTZ;
ALTER TABLE submissions ADD COLUMN recorded_at TIMESTAMPTZ;
ALTER TABLE submissions ADD COLUMN drawn_at TIMESTAMPTZ;
ALTER TABLE submissions ADD COLUMN train_millis BIGINT;
