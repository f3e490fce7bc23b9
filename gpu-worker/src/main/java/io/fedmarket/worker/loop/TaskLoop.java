package io.fedmarket.worker.loop;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.Submission;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.worker.store.ArtifactStore;
import io.fedmarket.worker.train.Reexecutor;
import io.fedmarket.worker.train.TaskRunner;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The worker's main loop: both queues long-polled at once (a task on this thread, re-execution requests on a listener
 * thread; see {@link #run}), one computation at a time. While a message is worked on, a heartbeat keeps it invisible.
 * A task message is deleted only after its submission is durable (the JSON in the bucket, then the
 * queue message): a crash before that lets the message reappear, and the next worker resumes from
 * the last checkpoint; a redelivered task whose submission exists is re-announced, not retrained.
 * A spot notice stops training at the next step, checkpoints, makes the message visible again and
 * ends the loop.
 */
public final class TaskLoop implements AutoCloseable {
    /** Why {@link #run} returned. */
    public enum Exit { MAX_TASKS, IDLE, SPOT_INTERRUPTION, STOPPED }

    private final WorkerConfig cfg;
    private final SqsClient sqs;
    private final S3Client s3;
    private final ArtifactStore store;
    private final TaskRunner runner;
    private final Reexecutor reexecutor;
    private final SpotNotice notice;
    private final ScheduledExecutorService heartbeats;
    private volatile boolean stopRequested;
    private volatile TaskRunner.Completed lastCompleted;
    private int handled;

    public TaskLoop(WorkerConfig cfg) {
        this.cfg = cfg;
        WorkerConfig.Endpoints ep = cfg.endpoints();
        var sqsB = SqsClient.builder().region(Region.of(ep.region())).httpClientBuilder(UrlConnectionHttpClient.builder());
        var s3B = S3Client.builder().region(Region.of(ep.region())).httpClientBuilder(UrlConnectionHttpClient.builder());
        if (ep.sqsEndpoint() != null) {
            var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create(ep.accessKey(), ep.secretKey()));
            sqsB.endpointOverride(ep.sqsEndpoint()).credentialsProvider(creds);
            s3B.endpointOverride(ep.s3Endpoint()).credentialsProvider(creds).forcePathStyle(true);
        }
        this.sqs = sqsB.build();
        this.s3 = s3B.build();
        this.store = new ArtifactStore(s3, ep.bucket());
        installModelFiles(store);
        this.local = io.fedmarket.worker.data.local.LocalShards.load(cfg.localData(), m -> System.err.println(cfg.workerId() + ": " + m));
        this.runner = new TaskRunner(store, cfg.key(), new SubmissionSigner(cfg.chainId(), cfg.marketplace()), cfg.workerId(), cfg.fault(), cfg.hold())
                .localData(local);
        this.reexecutor = new Reexecutor(runner, store, cfg.key(), new ReexecSigner(cfg.chainId(), cfg.marketplace()))
                .revealWait(cfg.revealWaitSeconds() * 1000L);
        this.notice = new SpotNotice(cfg.spotNotice());
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("heartbeat").unstarted(r));
        // a reveal is sealed to this worker's key, which its address is the hash of: published where only it writes
        io.fedmarket.worker.reveal.RevealServer.publishKey(store, cfg.key());
        if (!local.roots().isEmpty() && !cfg.fault().refusesReveals()) {
            this.reveals = new io.fedmarket.worker.reveal.RevealServer(store, cfg.key(), local, m -> System.err.println(cfg.workerId() + ": " + m));
            this.revealPasses = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("reveals").unstarted(r));
            revealPasses.scheduleWithFixedDelay(() -> {
                try {
                    reveals.serveOnce();
                } catch (RuntimeException e) {
                    System.err.println(cfg.workerId() + ": reveal pass failed (tried again): " + e.getMessage());
                }
            }, 0, REVEAL_POLL_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            this.reveals = null;
            this.revealPasses = null;
            if (!local.roots().isEmpty()) {
                System.err.println("FAULT INJECTION refuse-reveal: " + cfg.workerId() + " never reveals a drawn segment of its private data");
            }
        }
    }

    /** How often the owner's worker looks for reveal requests of its private data sets. */
    static final long REVEAL_POLL_MILLIS = 300;
    private final io.fedmarket.worker.data.local.LocalShards local;
    private final io.fedmarket.worker.reveal.RevealServer reveals;
    private final ScheduledExecutorService revealPasses;


    /** Uploaded TorchScript files come from the bucket ({@code models/<sha256>}; TorchScriptModels checks the hash). */
    public static void installModelFiles(ArtifactStore store) {
        io.fedmarket.fl.model.TorchScriptModels.setLoader(sha -> {
            try {
                return store.get(io.fedmarket.fl.model.TorchScriptModels.key(sha));
            } catch (IllegalStateException missing) {
                return null;
            }
        });
    }

    public ArtifactStore store() {
        return store;
    }

    public SqsClient sqs() {
        return sqs;
    }

    /** The last task this loop completed (tests and the benchmark read its statistics). */
    public TaskRunner.Completed lastCompleted() {
        return lastCompleted;
    }

    public void stop() {
        stopRequested = true;
    }

    private boolean mustStop() {
        return stopRequested || notice.pending();
    }

    /** How long a worker that received a segment of its own update leaves the re-execution queue to the others. */
    static final long OWN_SEGMENT_BACKOFF_NANOS = 3_000_000_000L;
    private long ownSegmentSeenAt = System.nanoTime() - OWN_SEGMENT_BACKOFF_NANOS;

    /** Held while the worker computes (a task or a re-execution): one at a time on the engine. */
    private final java.util.concurrent.locks.ReentrantLock compute = new java.util.concurrent.locks.ReentrantLock();
    /** When the worker last did something (a task or a re-execution), for FEDMARKET_IDLE_EXIT_SECONDS. */
    private volatile long lastActivity = System.nanoTime();

    /**
     * Runs until a spot notice, {@link #stop}, the task limit or the idle limit. With {@code FEDMARKET_IDLE_WAKEUP=listen} (the
     * default) both queues are long-polled at once: this thread waits on the task queue while a listener thread waits on the
     * re-execution queue, so a worker wakes as soon as either has something for it, never after a poll interval spent waiting
     * on the other queue; one computation runs at a time (a re-execution request that arrives while a task trains is handed on at
     * once and comes back when the worker is free). {@code poll}: the single-threaded loop of before (re-execution requests looked
     * at between task polls of FEDMARKET_POLL_SECONDS).
     */
    public Exit run() {
        if (!cfg.listen()) {
            return runPolling();
        }
        lastActivity = System.nanoTime();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        Thread listener = Thread.ofPlatform().daemon().name("reexec-listener").start(() -> listenForReexec(done));
        try {
            while (true) {
                if (notice.pending()) {
                    return Exit.SPOT_INTERRUPTION;
                }
                if (stopRequested) {
                    return Exit.STOPPED;
                }
                if (cfg.maxTasks() > 0 && handled >= cfg.maxTasks()) {
                    return Exit.MAX_TASKS;
                }
                if (cfg.idleExitSeconds() > 0 && System.nanoTime() - lastActivity > cfg.idleExitSeconds() * 1_000_000_000L) {
                    return Exit.IDLE;
                }
                if (cfg.verifierOnly()) {
                    sleepQuietly(100); // a verifier node never takes a training task: the listener does its work
                    continue;
                }
                Optional<Message> task = receiveTask(cfg.endpoints().tasksQueueUrl(), cfg.pollSeconds());
                if (task.isPresent()) {
                    boolean interrupted;
                    compute.lock();
                    try {
                        interrupted = handleTask(task.get());
                    } finally {
                        compute.unlock();
                    }
                    lastActivity = System.nanoTime();
                    if (interrupted) {
                        return Exit.SPOT_INTERRUPTION;
                    }
                }
            }
        } finally {
            done.set(true);
            try {
                listener.join(Math.max(2, cfg.pollSeconds() + 2) * 1000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The re-execution lane: long-polls the re-execution queue while the worker is not training, and re-executes what is its own. */
    private void listenForReexec(java.util.concurrent.atomic.AtomicBoolean done) {
        while (!done.get() && !mustStop()) {
            try {
                if (compute.isLocked() || System.nanoTime() - ownSegmentSeenAt < OWN_SEGMENT_BACKOFF_NANOS) {
                    sleepQuietly(20);
                    continue;
                }
                if (pollReexec(cfg.pollSeconds())) {
                    lastActivity = System.nanoTime();
                }
            } catch (RuntimeException e) {
                if (!done.get()) {
                    System.err.println("re-execution listener: " + e + " (listening again in 1 s)");
                    sleepQuietly(1000);
                }
            }
        }
    }

    private Exit runPolling() {
        long idleSince = System.nanoTime();
        while (true) {
            if (notice.pending()) {
                return Exit.SPOT_INTERRUPTION;
            }
            if (stopRequested) {
                return Exit.STOPPED;
            }
            if (cfg.maxTasks() > 0 && handled >= cfg.maxTasks()) {
                return Exit.MAX_TASKS;
            }
            if (System.nanoTime() - ownSegmentSeenAt >= OWN_SEGMENT_BACKOFF_NANOS && pollReexec(0)) {
                idleSince = System.nanoTime();
                continue;
            }
            if (cfg.verifierOnly()) {
                // a verifier node never takes a training task: it waits for re-executions only
                sleepQuietly(Math.max(200, cfg.pollSeconds() * 1000L / 2));
                if (cfg.idleExitSeconds() > 0 && System.nanoTime() - idleSince > cfg.idleExitSeconds() * 1_000_000_000L) {
                    return Exit.IDLE;
                }
                continue;
            }
            Optional<Message> task = receiveTask(cfg.endpoints().tasksQueueUrl(), cfg.pollSeconds());
            if (task.isPresent()) {
                boolean interrupted = handleTask(task.get());
                idleSince = System.nanoTime();
                if (interrupted) {
                    return Exit.SPOT_INTERRUPTION;
                }
                continue;
            }
            if (cfg.idleExitSeconds() > 0 && System.nanoTime() - idleSince > cfg.idleExitSeconds() * 1_000_000_000L) {
                return Exit.IDLE;
            }
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }


    /**
     * A task this worker may take: open data, or private data it holds (a task of someone else's private shard is left on the
     * queue, released at once, for the workers that hold it). Looks at up to 10 messages a receive, keeps the first it may
     * take and releases the rest; a message that does not parse is kept (handleTask sends it on its way to the DLQ).
     */
    private Optional<Message> receiveTask(String queueUrl, int waitSeconds) {
        List<Message> ms = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(waitSeconds)
                .visibilityTimeout(cfg.visibilitySeconds())).messages();
        Message picked = null;
        List<Message> others = new java.util.ArrayList<>();
        for (Message m : ms) {
            if (picked == null && mayTake(m)) {
                picked = m;
            } else {
                others.add(m);
            }
        }
        releaseAll(queueUrl, others);
        if (picked == null && !others.isEmpty()) {
            sleepQuietly(200); // only others' private tasks: give their holders the next receive
        }
        return Optional.ofNullable(picked);
    }

    private boolean mayTake(Message m) {
        TrainTask t;
        try {
            t = ArtifactStore.JSON.readValue(m.body(), TrainTask.class);
        } catch (JsonProcessingException | RuntimeException e) {
            return true;
        }
        return t.trainableBy(cfg.key().getAddress()) && local.holds(t);
    }

    private ScheduledFuture<?> heartbeat(String queueUrl, Message m) {
        long period = Math.max(1, cfg.visibilitySeconds() / 3);
        return heartbeats.scheduleAtFixedRate(() -> {
            try {
                sqs.changeMessageVisibility(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle())
                        .visibilityTimeout(cfg.visibilitySeconds()));
            } catch (RuntimeException e) {
                System.err.println("heartbeat failed (the message may reappear for another worker): " + e.getMessage());
            }
        }, period, period, TimeUnit.SECONDS);
    }

    /** @return true when a spot notice interrupted the task */
    private boolean handleTask(Message m) {
        long receivedAtMs = System.currentTimeMillis();
        String queue = cfg.endpoints().tasksQueueUrl();
        TrainTask task;
        try {
            task = ArtifactStore.JSON.readValue(m.body(), TrainTask.class).validate();
        } catch (JsonProcessingException | IllegalArgumentException e) {
            // a poison message: released at once so it reaches the DLQ after maxReceiveCount receives
            System.err.println("rejecting task message " + m.messageId() + ": " + e.getMessage());
            sqs.changeMessageVisibility(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
            return false;
        }
        ScheduledFuture<?> hb = heartbeat(queue, m);
        try {
            // submitted before by this worker (the delete was lost): announced again, not retrained (the verifier is idempotent on
            // taskId). Another worker's record proves nothing (the bucket is shared, and the marketplace may have refused it and
            // offered the task again): the task is trained
            Optional<Submission> done = store.getJson(ArtifactStore.submissionKey(task.taskId()), Submission.class)
                    .filter(d -> d.worker() != null && d.worker().equalsIgnoreCase(cfg.key().getAddress()));
            if (done.isPresent()) {
                System.err.println("task " + task.taskId() + " was already submitted: not training it again");
                sendJson(cfg.endpoints().submissionsQueueUrl(), done.get());
            } else {
                TaskRunner.Outcome outcome = runner.run(task, this::mustStop);
                if (outcome instanceof TaskRunner.Interrupted i) {
                    hb.cancel(false);
                    sqs.changeMessageVisibility(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
                    System.err.println("task " + task.taskId() + " released at step " + i.step() + " (checkpoint " + i.checkpointUri() + ")");
                    return true;
                }
                TaskRunner.Completed c = (TaskRunner.Completed) outcome;
                // the worker's instants go with the submission (not signed, only observed): received, trained, sent (made durable)
                Submission.Timings trained = c.submission().timings();
                Submission out = c.submission().withTimings(new Submission.Timings(receivedAtMs, trained == null ? 0 : trained.trainedAtMs(),
                        System.currentTimeMillis()));
                store.putJson(ArtifactStore.submissionKey(task.taskId()), out);
                sendJson(cfg.endpoints().submissionsQueueUrl(), out);
                lastCompleted = c;
                System.err.println("task " + task.taskId() + " submitted: " + c.submission().steps() + " steps, update "
                        + c.submission().updateHash() + (c.resumedFromStep() > 0 ? ", resumed from step " + c.resumedFromStep() : ""));
            }
            hb.cancel(false);
            sqs.deleteMessage(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()));
            handled++;
            return false;
        } catch (RuntimeException e) {
            hb.cancel(false);
            System.err.println("task " + task.taskId() + " failed, releasing it: " + e);
            e.printStackTrace();
            sqs.changeMessageVisibility(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
            handled++;
            return false;
        } finally {
            hb.cancel(false);
        }
    }

    /**
     * Looks through up to {@link #SCAN_BATCHES} batches of 10 re-execution requests, keeps the first one that is drawn for
     * this worker (or for nobody in particular), is not a segment of this worker's own update and does not exclude it
     * ({@code excludeWorkers}), releases every other one at once, then re-executes the kept one. Looking at many matters: taking one message at a
     * time, workers that each hold a segment of their own update keep receiving their own message back (the queue hands
     * out the longest-visible message first) and nobody re-executes anything; and with every request drawn for one
     * worker, a worker must see past the head of a long queue to find its own.
     *
     * @return true when a segment was re-executed or a poison message released
     */
    private boolean pollReexec(int waitSeconds) {
        String queue = cfg.endpoints().reexecQueueUrl();
        String me = cfg.key().getAddress();
        List<Message> held = new java.util.ArrayList<>();
        List<Message> expired = new java.util.ArrayList<>();
        Message picked = null;
        ReexecTask pickedTask = null;
        boolean poison = false;
        boolean sawOwn = false; // a request this worker could take but for being its own update's segment
        // look through up to SCAN_BATCHES × 10 requests, holding the ones already seen, so that a request drawn for this worker
        // deep in a long queue is found in one pass instead of the same first ten being handed out again and again
        for (int scan = 0; scan < SCAN_BATCHES && picked == null; scan++) {
            int wait = scan == 0 ? waitSeconds : 0; // the first look waits for a request to arrive; the rest only page through
            List<Message> batch = sqs.receiveMessage(b -> b.queueUrl(queue).maxNumberOfMessages(10).waitTimeSeconds(wait)
                    .visibilityTimeout(cfg.visibilitySeconds())).messages();
            if (batch.isEmpty()) {
                break;
            }
            for (Message m : batch) {
                ReexecTask r;
                try {
                    r = ArtifactStore.JSON.readValue(m.body(), ReexecTask.class);
                } catch (JsonProcessingException e) {
                    System.err.println("rejecting re-execution message " + m.messageId() + ": " + e.getMessage());
                    held.add(m);
                    poison = true;
                    continue;
                }
                if (r.expired(java.time.Instant.now().getEpochSecond())) {
                    expired.add(m); // drawn anew or decided since: nobody should take this copy
                    continue;
                }
                // drawn for another worker: left alone without a look at the bucket
                if (picked == null && r.isFor(me)) {
                    if (isOwn(r)) {
                        sawOwn = true;
                    } else {
                        picked = m;
                        pickedTask = r;
                        continue;
                    }
                }
                held.add(m);
            }
        }
        releaseAll(queue, held); // every other request back at once: the worker drawn for it, or anyone but the submitter, takes it
        for (Message m : expired) {
            sqs.deleteMessage(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()));
        }
        if (picked != null) {
            if (!compute.tryLock()) {
                // a task started training meanwhile: the request is handed on at once (it is received many times by design,
                // see queues.json) and comes back when this worker is free
                releaseAll(queue, List.of(picked));
                return false;
            }
            try {
                reexecute(picked, pickedTask);
            } finally {
                compute.unlock();
            }
            return true;
        }
        if (sawOwn && !poison) {
            // only segments of this worker's own updates were for it: leave them to the others for a while
            ownSegmentSeenAt = System.nanoTime();
        }
        return poison;
    }

    /** How many batches of 10 re-execution requests one poll looks through. */
    static final int SCAN_BATCHES = 5;

    private void releaseAll(String queue, List<Message> messages) {
        for (int from = 0; from < messages.size(); from += 10) {
            List<software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry> entries = new java.util.ArrayList<>();
            List<Message> part = messages.subList(from, Math.min(messages.size(), from + 10));
            for (int i = 0; i < part.size(); i++) {
                Message m = part.get(i);
                entries.add(software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry.builder()
                        .id("m" + i).receiptHandle(m.receiptHandle()).visibilityTimeout(0).build());
            }
            try {
                sqs.changeMessageVisibilityBatch(b -> b.queueUrl(queue).entries(entries));
            } catch (RuntimeException e) {
                // not released now: they reappear after the visibility timeout, nothing is lost
                System.err.println("could not release " + entries.size() + " re-execution requests at once: " + e.getMessage());
            }
        }
    }

    /**
     * A worker never verifies its own work: a segment of its own update, or one whose {@code excludeWorkers} names this
     * worker, is left to a different bonded worker. (A request drawn for another worker is left to that one too, see
     * {@link ReexecTask#isFor}.)
     */
    private boolean isOwn(ReexecTask r) {
        if (r.excludes(cfg.key().getAddress())) {
            return true;
        }
        if (r.task() == null || r.task().taskId() == null) {
            return false; // malformed: the re-executor answers it with an error result
        }
        return store.getJson(ArtifactStore.submissionKey(r.task().taskId()), io.fedmarket.messages.Submission.class)
                .map(s -> s.worker() != null && s.worker().equalsIgnoreCase(cfg.key().getAddress())).orElse(false);
    }

    private void reexecute(Message m, ReexecTask r) {
        String queue = cfg.endpoints().reexecQueueUrl();
        ScheduledFuture<?> hb = heartbeat(queue, m);
        long t0 = System.nanoTime();
        try {
            // this worker's own earlier answer (a redelivery after a crash) is sent again; another worker's is never reused
            String me = cfg.key().getAddress();
            ReexecResult result = store.getJson(ArtifactStore.reexecKey(r.reexecId()), ReexecResult.class)
                    .filter(earlier -> earlier.worker() != null && earlier.worker().equalsIgnoreCase(me))
                    .orElseGet(() -> reexecutor.run(r));
            store.putJson(ArtifactStore.reexecKey(r.reexecId()), result);
            if (r.replyQueueKey() != null) {
                String url = cfg.endpoints().queueUrls().get(r.replyQueueKey());
                if (url == null) {
                    throw new IllegalArgumentException("re-execution " + r.reexecId() + " names unknown reply queue " + r.replyQueueKey());
                }
                sendJson(url, result);
            }
            hb.cancel(false);
            sqs.deleteMessage(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()));
            System.err.println("re-execution " + r.reexecId() + " done in " + (System.nanoTime() - t0) / 1_000_000 + " ms"
                    + (result.error() != null ? ": " + result.error() : ""));
        } catch (RuntimeException e) {
            System.err.println("re-execution " + r.reexecId() + " failed, releasing it: " + e);
            hb.cancel(false);
            sqs.changeMessageVisibility(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
        } finally {
            hb.cancel(false);
        }
    }

    private void sendJson(String queueUrl, Object body) {
        try {
            String json = ArtifactStore.JSON.writeValueAsString(body);
            sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(json));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        notice.close();
        if (revealPasses != null) {
            revealPasses.shutdownNow();
        }
        heartbeats.shutdownNow();
        try {
            heartbeats.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sqs.close();
        s3.close();
    }

}
