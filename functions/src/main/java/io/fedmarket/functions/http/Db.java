package io.fedmarket.functions.http;

import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs reactive Panache work from a funqy function: funqy calls us on a plain Lambda thread without
 * a Vert.x context, so the transaction is started on a duplicated context and awaited here.
 */
public final class Db {
    private Db() {
    }

    public static <T> T tx(Supplier<Uni<T>> work) {
        try {
            return VertxContextSupport.subscribeAndAwait(() -> Panache.withTransaction(work));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t.getMessage(), t);
        }
    }

    /** A transaction with the raw session, for native SQL. */
    public static <T> T session(Function<Mutiny.Session, Uni<T>> work) {
        return tx(() -> Panache.getSession().chain(s -> work.apply(s)));
    }
}
