package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.functions.http.Db;
import io.fedmarket.messages.ChainEvent;
import io.fedmarket.model.Addresses;
import io.quarkus.funqy.Funq;
import io.smallrye.mutiny.Uni;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.math.BigInteger;
import java.time.Instant;

/**
 * Lambda {@code chainSync}: mirrors bond events of the marketplace contract into PostgreSQL
 * (bonds, chain_events, chain_cursor). Idempotent on (txHash, logIndex): a redelivered event
 * changes nothing. An event that would drive a bond negative fails (and ends in the DLQ): the
 * mirror never invents money.
 */
public class ChainSyncFunction {
    private static final Logger LOG = Logger.getLogger(ChainSyncFunction.class);

    @Funq("chainSync")
    public void chainSync(SQSEvent.SQSMessage record) {
        Records.handle("chainSync", record, ChainEvent.class, this::apply);
    }

    void apply(ChainEvent e) {
        if (e.kind() == null || e.address() == null || !e.address().matches("^0x[0-9a-fA-F]{40}$") || e.amount() == null
                || e.amount().signum() < 0 || e.txHash() == null || e.blockHash() == null) {
            throw new Records.PoisonRecord("chain event lacks kind, address, non-negative amount, txHash or blockHash: " + e);
        }
        String address = Addresses.normalize(e.address());
        MDC.put("txHash", e.txHash());
        MDC.put("address", address);
        Instant at = e.timestamp() > 0 ? Instant.ofEpochSecond(e.timestamp()) : Instant.now();
        BigInteger a = e.amount();
        String update = switch (e.kind()) {
            case BONDED -> "amount = bonds.amount + :a";
            case UNBOND_REQUESTED -> "amount = bonds.amount - :a, unbonding = bonds.unbonding + :a, unbonding_at = :t";
            case UNBONDED -> "unbonding = bonds.unbonding - :a";
            case SLASHED -> "amount = bonds.amount - :a, slashed_total = bonds.slashed_total + :a, last_slashed_at = :t";
        };
        boolean applied = Db.session(s -> s.createNativeQuery(
                        "insert into chain_events (tx_hash, log_index, block_number, block_hash, kind, address, amount, applied_at) "
                                + "values (:tx, :li, :bn, :bh, :k, :ad, :a, :now) on conflict do nothing")
                .setParameter("tx", e.txHash()).setParameter("li", e.logIndex()).setParameter("bn", e.blockNumber())
                .setParameter("bh", e.blockHash()).setParameter("k", e.kind().name()).setParameter("ad", address)
                .setParameter("a", new java.math.BigDecimal(a)).setParameter("now", Instant.now()).executeUpdate()
                .chain(n -> {
                    if (n == 0) {
                        return Uni.createFrom().item(false);
                    }
                    return s.createNativeQuery("insert into bonds (address, block_number, updated_at) values (:ad, :bn, :t) on conflict do nothing")
                            .setParameter("ad", address).setParameter("bn", e.blockNumber()).setParameter("t", at).executeUpdate()
                            .chain(() -> s.createNativeQuery("update bonds set " + update + ", block_number = greatest(bonds.block_number, :bn), updated_at = :t where address = :ad")
                                    .setParameter("a", new java.math.BigDecimal(a)).setParameter("t", at).setParameter("bn", e.blockNumber())
                                    .setParameter("ad", address).executeUpdate())
                            .chain(() -> s.createNativeQuery("insert into chain_cursor (name, block_number, block_hash, updated_at) values ('marketplace', :bn, :bh, :now) "
                                            + "on conflict (name) do update set block_number = excluded.block_number, block_hash = excluded.block_hash, updated_at = excluded.updated_at "
                                            + "where chain_cursor.block_number <= excluded.block_number")
                                    .setParameter("bn", e.blockNumber()).setParameter("bh", e.blockHash()).setParameter("now", Instant.now()).executeUpdate())
                            .replaceWith(true);
                }));
        LOG.infof("%s %s of %s at block %d %s", e.kind(), a, address, e.blockNumber(), applied ? "applied" : "already applied (redelivery)");
    }
}
