package io.fedmarket.functions;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Rows a running job has, written straight into the test database (the functions that create them have their own tests). */
final class Seed {
    private Seed() {
    }

    record Job(UUID jobId, List<String> taskIds, List<String> workers) {
    }

    /** A job at price 7 per GPU-second with round 1 OPEN (min 2 updates) and {@code workers} tasks. */
    static Job job(int workers, boolean submissions) throws Exception {
        UUID intent = MatchFunctionTest.seed(false);
        UUID job = UUID.randomUUID();
        List<String> tasks = new ArrayList<>();
        List<String> addrs = new ArrayList<>();
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement()) {
            String plan = io.fedmarket.functions.http.Json.write(io.fedmarket.fl.job.JobPlan.of("mlp", null, null, 1, "fedavg", false, null, null, 2, 600, job));
            st.execute("insert into jobs (id, intent_id, builder, status, clearing_price_per_gpu_second, current_round, created_at, updated_at, plan) "
                    + "select '" + job + "', id, builder, 'RUNNING', 7, 1, now(), now(), '" + plan + "' from intents where id = '" + intent + "'");
            st.execute("insert into rounds (job_id, round_no, status, min_updates, deadline, global_model_hash) values ('" + job + "', 1, 'OPEN', 2, now() + interval '1 hour', '0x" + "11".repeat(32) + "')");
            for (int i = 0; i < workers; i++) {
                String w = Api.address(Api.newKey()).toLowerCase();
                String t = "task-" + UUID.randomUUID();
                addrs.add(w);
                tasks.add(t);
                st.execute("insert into tasks (id, job_id, round_no, worker, shard, seed, hyper_params, status, created_at) values ('" + t + "', '" + job
                        + "', 1, '" + w + "', 'shard-" + i + "', " + i + ", '{}', 'RUNNING', now())");
                st.execute("insert into job_participants (job_id, provider_id, kind, address) values ('" + job + "', '" + UUID.randomUUID() + "', 'GPU', '" + w + "')");
                if (submissions) {
                    st.execute("insert into submissions (task_id, worker, update_uri, update_hash, proof_root, steps, gpu_seconds, signature, submitted_at) values ('"
                            + t + "', '" + w + "', 's3://u', '0x" + "22".repeat(32) + "', '0x" + "33".repeat(32) + "', 100, " + (100 * (i + 1)) + ", '0x" + "44".repeat(65) + "', now())");
                }
            }
        }
        return new Job(job, tasks, addrs);
    }

    static String one(String sql) throws Exception {
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static void exec(String sql) throws Exception {
        try (Connection c = TestStack.jdbc(); PreparedStatement p = c.prepareStatement(sql)) {
            p.execute();
        }
    }
}
