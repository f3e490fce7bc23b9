package io.fedmarket.fl.payout;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Cumulative payouts of one job, advanced round by round by a pure function. The on-chain
 * Merkle root covers these cumulative amounts, so one claim pays every round so far.
 *
 * <p>Per accepted task: the GPU provider earns clearing price × proven GPU-seconds (exact
 * integer); the data provider earns ⌊gpuPay × dataShareBps / 10 000⌋ on top (rounding down:
 * the remainder stays in escrow and is refunded to the builder, never paid out of thin air).
 * Rejected tasks earn nothing. A task id is settled at most once: a redelivered or repeated
 * settlement of the same task is skipped and reported, never paid twice.
 *
 * <p>Budget: tasks of a round are paid in task-id order; when the escrow cannot cover a
 * task in full, its GPU provider is paid first, then its data provider, each up to what is
 * left, and the shortfall is reported. The cumulative total never exceeds the budget.
 */
public record PayoutLedger(BigInteger budget, Map<String, BigInteger> cumulative, Set<String> settledTaskIds,
                           BigInteger totalPaid) {
    public PayoutLedger {
        Objects.requireNonNull(budget, "budget");
        if (budget.signum() < 0) {
            throw new IllegalArgumentException("escrow budget must be >= 0 but was " + budget);
        }
        cumulative = Collections.unmodifiableMap(new TreeMap<>(cumulative));
        settledTaskIds = Collections.unmodifiableSet(new TreeSet<>(settledTaskIds));
    }

    public static PayoutLedger open(BigInteger escrowBudget) {
        return new PayoutLedger(escrowBudget, Map.of(), Set.of(), BigInteger.ZERO);
    }

    public BigInteger remaining() {
        return budget.subtract(totalPaid);
    }

    public BigInteger of(String address) {
        return cumulative.getOrDefault(address, BigInteger.ZERO);
    }

    /** What one round changed. {@code shortfall} is what the budget could not cover. */
    public record RoundReport(int round, BigInteger paidThisRound, List<String> paidTaskIds, List<String> rejectedTaskIds,
                              List<String> duplicateTaskIds, List<String> clippedTaskIds, BigInteger shortfall) {
    }

    public record Result(PayoutLedger ledger, RoundReport report) {
    }

    /**
     * @param clearingPricePerGpuSecond base units per proven GPU-second (the auction's uniform price)
     * @param dataShareBps              data providers' share in basis points of the GPU pay (0..10 000)
     */
    public Result settleRound(int round, BigInteger clearingPricePerGpuSecond, int dataShareBps,
                              List<TaskSettlement> tasks) {
        Objects.requireNonNull(clearingPricePerGpuSecond, "clearingPricePerGpuSecond");
        if (clearingPricePerGpuSecond.signum() < 0) {
            throw new IllegalArgumentException("clearing price must be >= 0 but was " + clearingPricePerGpuSecond);
        }
        if (dataShareBps < 0 || dataShareBps > 10_000) {
            throw new IllegalArgumentException("data providers' share must be 0..10000 basis points but was "
                    + dataShareBps);
        }
        TreeMap<String, BigInteger> cum = new TreeMap<>(cumulative);
        TreeSet<String> settled = new TreeSet<>(settledTaskIds);
        BigInteger left = remaining();
        BigInteger paid = BigInteger.ZERO;
        BigInteger shortfall = BigInteger.ZERO;
        List<String> paidIds = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        List<String> duplicates = new ArrayList<>();
        List<String> clipped = new ArrayList<>();
        List<TaskSettlement> ordered = new ArrayList<>(tasks);
        ordered.sort(Comparator.comparing(TaskSettlement::taskId));
        for (TaskSettlement t : ordered) {
            if (!settled.add(t.taskId())) {
                duplicates.add(t.taskId());
                continue;
            }
            if (!t.accepted()) {
                rejected.add(t.taskId());
                continue;
            }
            BigInteger gpuPay = clearingPricePerGpuSecond.multiply(BigInteger.valueOf(t.provenGpuSeconds()));
            BigInteger dataPay = t.dataProvider() == null ? BigInteger.ZERO
                    : gpuPay.multiply(BigInteger.valueOf(dataShareBps)).divide(BigInteger.valueOf(10_000));
            BigInteger g = gpuPay.min(left);
            left = left.subtract(g);
            BigInteger d = dataPay.min(left);
            left = left.subtract(d);
            BigInteger missing = gpuPay.add(dataPay).subtract(g).subtract(d);
            if (missing.signum() > 0) {
                clipped.add(t.taskId());
                shortfall = shortfall.add(missing);
            }
            if (g.signum() > 0) {
                cum.merge(t.gpuProvider(), g, BigInteger::add);
            }
            if (d.signum() > 0) {
                cum.merge(t.dataProvider(), d, BigInteger::add);
            }
            paid = paid.add(g).add(d);
            paidIds.add(t.taskId());
        }
        PayoutLedger next = new PayoutLedger(budget, cum, settled, totalPaid.add(paid));
        return new Result(next, new RoundReport(round, paid, paidIds, rejected, duplicates, clipped, shortfall));
    }
}
