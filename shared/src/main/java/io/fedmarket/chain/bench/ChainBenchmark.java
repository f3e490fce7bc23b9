package io.fedmarket.chain.bench;

import io.fedmarket.chain.AnvilNode;
import io.fedmarket.chain.DevAccounts;
import io.fedmarket.chain.MarketplaceChain;
import io.fedmarket.chain.MarketplaceChain.TxResult;
import io.fedmarket.chain.MarketplaceDeployer;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.PayoutTree;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.methods.response.VoidResponse;
import org.web3j.protocol.http.HttpService;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Gas and throughput of the settlement contracts through the Java facade, on its own anvil:
 * gas per operation, postRound and claim gas for 10 to 100,000 participants, claim gas when one claim
 * covers 1 vs 50 rounds, and facade throughput (transactions per second, each waited for with its receipt).
 * Usage: {@code ChainBenchmark [--json] [--txs N]} — a table, or one JSON object with --json.
 */
public final class ChainBenchmark {
    private static final BigInteger E18 = BigInteger.TEN.pow(18);
    /**
     * The wallet that never bonded nor held the token: a fixed key (not a dev account, which all hold test tokens), so
     * that its address, hence its leaf, the proofs of the tree it is in and their calldata, and with them the gas
     * figures, are the same on every run.
     */
    static final org.web3j.crypto.Credentials FRESH_KEY = org.web3j.crypto.Credentials.create(
            Hashes.hex(Hashes.keccak256("fedmarket chain benchmark: a wallet that never held the token".getBytes(StandardCharsets.UTF_8))));
    /**
     * Every job's deadline: a fixed instant (2096-10-02) rather than now + 1 day, so that openJob's calldata, hence its
     * gas (zero bytes are cheaper), does not depend on the clock.
     */
    static final long DEADLINE = 4_000_000_000L;

    public static void main(String[] args) throws Exception {
        boolean json = false;
        int txs = 400;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = true;
                case "--txs" -> txs = Integer.parseInt(args[++i]);
                case "--quick" -> txs = 100;
                case "-h", "--help" -> {
                    System.out.println("usage: ChainBenchmark [--json] [--txs N] [--quick]  (N transactions for the throughput figure, default 400; --quick: 100)");
                    return;
                }
                default -> {
                    throw new IllegalArgumentException("unknown argument " + args[i] + ": use --json, --txs N and/or --quick");
                }
            }
        }
        Map<String, Object> result = run(txs);
        System.out.println(json ? toJson(result) : table(result));
    }

    static byte[] id(String s) {
        return Hashes.keccak256(s.getBytes(StandardCharsets.UTF_8));
    }

    static String participant(int job, int i) {
        return String.format("0x%08x%032x", job + 1, i + 1);
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> run(int txs) throws Exception {
        Path dir = Files.createTempDirectory("chain-bench");
        Map<String, Object> out = new LinkedHashMap<>();
        try (AnvilNode anvil = AnvilNode.start(0, null, dir.resolve("anvil.log"))) {
            Map<String, String> contracts = MarketplaceDeployer.deployLocal(anvil.rpcUrl());
            try (MarketplaceChain admin = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(0), contracts, MarketplaceChain.Options.defaults())) {
                Map<String, Long> ops = new LinkedHashMap<>();
                MarketplaceChain builder = admin.as(DevAccounts.account(1));
                MarketplaceChain provider = admin.as(DevAccounts.account(2));
                String p = provider.address();
                long deadline = DEADLINE;

                ops.put("approve", gas(builder.approve(E18.multiply(BigInteger.valueOf(1_000_000)))));
                byte[] job = id("bench-ops");
                ops.put("openJob (first deposit)", gas(builder.openJob(job, E18.multiply(BigInteger.valueOf(1000)), deadline)));
                ops.put("deposit (top-up)", gas(builder.deposit(job, E18)));
                provider.approve(E18.multiply(BigInteger.valueOf(1000)));
                ops.put("bond (first)", gas(provider.bond(E18.multiply(BigInteger.valueOf(100)))));
                ops.put("bond (top-up)", gas(provider.bond(E18)));
                PayoutTree t1 = PayoutTree.of(Map.of(p, E18, participant(9, 1), E18));
                ops.put("postRound (round 1)", gas(admin.postRound(job, 1, id("m1"), t1.root(), E18.multiply(BigInteger.TWO))));
                PayoutTree t2 = PayoutTree.of(Map.of(p, E18.multiply(BigInteger.TWO), participant(9, 1), E18.multiply(BigInteger.TWO)));
                ops.put("postRound (round 2+)", gas(admin.postRound(job, 2, id("m2"), t2.root(), E18.multiply(BigInteger.valueOf(4)))));
                ops.put("claim (first, bonded provider)", gas(admin.claim(job, p, t2.cumulative(p), t2.proof(p))));
                // a key that never bonded nor held the token (gas money only)
                org.web3j.crypto.Credentials freshKey = FRESH_KEY;
                rpc(anvil, "anvil_setBalance", List.of(freshKey.getAddress(), "0x" + E18.toString(16)));
                MarketplaceChain fresh = admin.as(freshKey);
                PayoutTree t3 = PayoutTree.of(Map.of(p, E18.multiply(BigInteger.valueOf(3)), participant(9, 1), E18.multiply(BigInteger.TWO),
                        fresh.address(), E18));
                admin.postRound(job, 3, id("m3"), t3.root(), E18.multiply(BigInteger.valueOf(6)));
                ops.put("claim (again, later round)", gas(admin.claim(job, p, t3.cumulative(p), t3.proof(p))));
                ops.put("claim (first, never bonded nor held the token)",
                        gas(admin.claim(job, participant(9, 1), t3.cumulative(participant(9, 1)), t3.proof(participant(9, 1)))));
                fresh.claim(job, fresh.address(), t3.cumulative(fresh.address()), t3.proof(fresh.address()));
                ops.put("withdraw 1 job (wallet holds the token)", gas(provider.withdraw(List.of(job))));
                ops.put("withdraw 1 job (wallet never held it)", gas(fresh.withdraw(List.of(job))));
                ops.put("slash (half to escrow)", gas(admin.slash(p, E18, job, id("evidence"))));
                ops.put("requestUnbond", gas(provider.requestUnbond(E18)));
                rpc(anvil, "evm_increaseTime", List.of(MarketplaceDeployer.LOCAL_UNBONDING_DELAY_SECONDS + 1));
                ops.put("withdrawUnbonded", gas(provider.withdrawUnbonded()));
                ops.put("finishJob", gas(admin.finishJob(job)));
                ops.put("refund", gas(builder.refund(job)));
                out.put("gasPerOperation", ops);

                // postRound gas does not depend on the participant count: the root is 32 bytes whatever the tree
                Map<String, Object> perRound = new LinkedHashMap<>();
                Map<String, Object> claimByN = new LinkedHashMap<>();
                int jobNo = 0;
                for (int n : new int[] {10, 100, 1000, 10_000, 100_000}) {
                    byte[] j = id("bench-n-" + n);
                    builder.openJob(j, E18.multiply(BigInteger.valueOf(10_000)), DEADLINE);
                    Map<String, BigInteger> pay = new LinkedHashMap<>(2 * n);
                    for (int i = 0; i < n - 1; i++) {
                        pay.put(participant(jobNo, i), BigInteger.valueOf(1000 + i));
                    }
                    pay.put(p, E18);
                    long t0 = System.nanoTime();
                    PayoutTree tree = PayoutTree.of(pay);
                    double treeMs = (System.nanoTime() - t0) / 1e6;
                    BigInteger total = pay.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
                    long g1 = gas(admin.postRound(j, 1, id("m"), tree.root(), total));
                    // a real later round: every cumulative grows, so the root and the committed total both change
                    // (re-posting the same root and total would rewrite two slots with their own values, ~5.6k cheaper)
                    Map<String, BigInteger> pay2 = new LinkedHashMap<>(2 * n);
                    pay.forEach((a, v) -> pay2.put(a, v.add(BigInteger.valueOf(500))));
                    pay2.put(p, E18.multiply(BigInteger.TWO));
                    PayoutTree tree2 = PayoutTree.of(pay2);
                    BigInteger total2 = pay2.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
                    long g2 = gas(admin.postRound(j, 2, id("m2"), tree2.root(), total2));
                    perRound.put(Integer.toString(n), Map.of("postRoundGasRound1", g1, "postRoundGasLaterRound", g2,
                            "javaTreeMillis", Math.round(treeMs * 10) / 10.0));
                    claimByN.put(Integer.toString(n), Map.of("claimGas", gas(admin.claim(j, p, tree2.cumulative(p), tree2.proof(p))),
                            "proofLength", tree2.proof(p).size()));
                    jobNo++;
                }
                out.put("postRoundByParticipants", perRound);
                out.put("claimByParticipants", claimByN);

                // one claim covering 1 round vs 50 rounds (100 participants each)
                Map<String, Object> byRounds = new LinkedHashMap<>();
                for (int rounds : new int[] {1, 50}) {
                    byte[] j = id("bench-rounds-" + rounds);
                    builder.openJob(j, E18.multiply(BigInteger.valueOf(100_000)), DEADLINE);
                    PayoutTree tree = null;
                    for (int r = 1; r <= rounds; r++) {
                        Map<String, BigInteger> pay = new LinkedHashMap<>();
                        for (int i = 0; i < 99; i++) {
                            pay.put(participant(100 + rounds, i), BigInteger.valueOf((long) r * (i + 1)));
                        }
                        pay.put(p, E18.multiply(BigInteger.valueOf(r)));
                        tree = PayoutTree.of(pay);
                        admin.postRound(j, r, id("m" + r), tree.root(), pay.values().stream().reduce(BigInteger.ZERO, BigInteger::add));
                    }
                    byRounds.put(Integer.toString(rounds), gas(admin.claim(j, p, tree.cumulative(p), tree.proof(p))));
                }
                out.put("claimGasByRoundsCovered", byRounds);
                // the provider now has claims booked in 7 jobs (5 participant counts, 2 round counts): one transfer pays them all
                List<byte[]> seven = new ArrayList<>();
                for (int n : new int[] {10, 100, 1000, 10_000, 100_000}) {
                    seven.add(id("bench-n-" + n));
                }
                seven.add(id("bench-rounds-1"));
                seven.add(id("bench-rounds-50"));
                ops.put("withdraw 7 jobs in one transfer", gas(provider.withdraw(seven)));

                out.put("throughput", throughput(admin, txs));
                out.put("device", Runtime.getRuntime().availableProcessors() + " CPUs, anvil 1.7.1 (automine), JDK " + Runtime.version());
            }
        }
        return out;
    }

    /** {@code txs} approve transactions from 4 keys, 16 threads, each call returning only with its receipt. */
    static Map<String, Object> throughput(MarketplaceChain admin, int txs) throws Exception {
        List<MarketplaceChain> senders = new ArrayList<>();
        for (int k = 3; k <= 6; k++) {
            senders.add(admin.as(DevAccounts.account(k)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            // warm-up (JIT, connections)
            List<Future<TxResult>> warm = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                MarketplaceChain s = senders.get(i % senders.size());
                BigInteger v = BigInteger.valueOf(i + 1);
                warm.add(pool.submit(() -> s.approve(v)));
            }
            for (Future<TxResult> f : warm) {
                f.get();
            }
            long t0 = System.nanoTime();
            List<Future<TxResult>> fs = new ArrayList<>();
            for (int i = 0; i < txs; i++) {
                MarketplaceChain s = senders.get(i % senders.size());
                BigInteger v = BigInteger.valueOf(1000 + i);
                fs.add(pool.submit(() -> s.approve(v)));
            }
            for (Future<TxResult> f : fs) {
                f.get();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("transactions", txs);
            m.put("keys", senders.size());
            m.put("threads", 16);
            m.put("seconds", Math.round(secs * 100) / 100.0);
            m.put("txPerSecondWithReceipts", Math.round(txs / secs * 10) / 10.0);
            return m;
        } finally {
            pool.shutdownNow();
        }
    }

    static long gas(TxResult r) {
        return r.gasUsed().longValueExact();
    }

    static void rpc(AnvilNode anvil, String method, List<?> params) throws Exception {
        HttpService http = new HttpService(anvil.rpcUrl());
        new Request<>(method, params, http, VoidResponse.class).send();
        new Request<>("evm_mine", List.of(), http, VoidResponse.class).send();
    }

    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-48s %10s%n", "operation", "gas"));
        ((Map<String, Long>) r.get("gasPerOperation")).forEach((k, v) -> sb.append(String.format("%-48s %10d%n", k, v)));
        sb.append(String.format("%n%-14s %14s %14s %12s %10s %8s%n", "participants", "postRound r1", "postRound r2+", "Java tree ms", "claim", "proof"));
        Map<String, Object> pr = (Map<String, Object>) r.get("postRoundByParticipants");
        Map<String, Object> cl = (Map<String, Object>) r.get("claimByParticipants");
        for (String n : pr.keySet()) {
            Map<String, Object> a = (Map<String, Object>) pr.get(n);
            Map<String, Object> c = (Map<String, Object>) cl.get(n);
            sb.append(String.format("%-14s %14s %14s %12s %10s %8s%n", n, a.get("postRoundGasRound1"), a.get("postRoundGasLaterRound"),
                    a.get("javaTreeMillis"), c.get("claimGas"), c.get("proofLength")));
        }
        sb.append(String.format("%n%-40s %10s%n", "one claim covering (100 participants)", "gas"));
        ((Map<String, Long>) r.get("claimGasByRoundsCovered")).forEach((k, v) -> sb.append(String.format("%-40s %10d%n", k + " round(s)", v)));
        Map<String, Object> t = (Map<String, Object>) r.get("throughput");
        sb.append(String.format("%nfacade throughput: %s tx/s with receipts (%s txs, %s keys, %s threads, %s s)%n",
                t.get("txPerSecondWithReceipts"), t.get("transactions"), t.get("keys"), t.get("threads"), t.get("seconds")));
        sb.append("device: ").append(r.get("device")).append('\n');
        return sb.toString();
    }

    static String toJson(Object o) {
        if (o instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            m.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append('"').append(esc(k.toString())).append("\":").append(toJson(v)));
            return sb.append('}').toString();
        }
        if (o instanceof Number || o instanceof Boolean) {
            return o.toString();
        }
        return "\"" + esc(String.valueOf(o)) + "\"";
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
