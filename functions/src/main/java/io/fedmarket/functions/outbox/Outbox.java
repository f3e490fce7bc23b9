package io.fedmarket.functions.outbox;

import io.fedmarket.functions.http.Db;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.hibernate.reactive.mutiny.Mutiny;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.List;

/**
 * Transactional outbox. {@link #add} writes the message in the caller's transaction, so a business
 * change and its message commit or roll back together; {@link #relay} then sends unsent rows and
 * marks them sent. A crash between commit and send leaves the row unsent, and the next relay (any
 * later call of a function that writes the outbox) sends it: never stored-but-not-queued. Consumers
 * are idempotent on the business key, so the rare double send after a crash is harmless.
 */
@ApplicationScoped
public class Outbox {
    private static final Logger LOG = Logger.getLogger(Outbox.class);

    @Inject
    QueueSender sender;

    public Uni<Integer> add(Mutiny.Session s, String queueKey, String dedupKey, String body) {
        return s.createNativeQuery("insert into outbox (queue_key, dedup_key, body, created_at) values (:q, :d, :b, :t) on conflict (dedup_key) do nothing")
                .setParameter("q", queueKey).setParameter("d", dedupKey).setParameter("b", body).setParameter("t", Instant.now())
                .executeUpdate();
    }

    /**
     * Sends up to {@code limit} unsent rows, those tried least first, oldest first (a row this function may not send, say for
     * lack of permission, sinks behind the others instead of holding them up); returns how many were sent. Rows another
     * relay has claimed are skipped, so concurrent functions do not send the same row twice (a claim expires after 30 s, so
     * a relay that died mid-way loses nothing).
     */
    public int relay(int limit) {
        Instant now = Instant.now();
        List<Object[]> rows = Db.session(s -> s.createNativeQuery(
                        "update outbox set claimed_until = :until where id in (select id from outbox where sent_at is null "
                                + "and (claimed_until is null or claimed_until < :now) order by attempts, id limit :l for update skip locked) "
                                + "returning id, queue_key, body", Object[].class)
                .setParameter("until", now.plusSeconds(30)).setParameter("now", now).setParameter("l", limit).getResultList());
        rows = new java.util.ArrayList<>(rows);
        rows.sort(java.util.Comparator.comparingLong(r -> ((Number) r[0]).longValue()));
        int sent = 0;
        for (Object[] row : rows) {
            long id = ((Number) row[0]).longValue();
            try {
                String messageId = sender.send((String) row[1], (String) row[2]);
                Db.session(s -> s.createNativeQuery("update outbox set sent_at = :t, attempts = attempts + 1 where id = :id")
                        .setParameter("t", Instant.now()).setParameter("id", id).executeUpdate());
                LOG.debugf("outbox %d sent to %s as %s", id, row[1], messageId);
                sent++;
            } catch (RuntimeException e) {
                LOG.warnf("outbox %d to %s not sent yet (%s); a later relay retries it", id, row[1], e.getMessage());
                String err = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
                Db.session(s -> s.createNativeQuery("update outbox set attempts = attempts + 1, last_error = :e, claimed_until = null where id = :id")
                        .setParameter("e", err.length() > 500 ? err.substring(0, 500) : err).setParameter("id", id).executeUpdate());
            }
        }
        return sent;
    }
}
