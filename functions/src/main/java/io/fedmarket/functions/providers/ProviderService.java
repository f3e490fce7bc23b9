package io.fedmarket.functions.providers;

import io.fedmarket.functions.http.Caller;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.http.Violations;
import io.fedmarket.functions.providers.ProviderRequests.BondView;
import io.fedmarket.functions.providers.ProviderRequests.DataProviderRequest;
import io.fedmarket.functions.providers.ProviderRequests.DataProviderView;
import io.fedmarket.functions.providers.ProviderRequests.GpuProviderRequest;
import io.fedmarket.functions.providers.ProviderRequests.GpuProviderView;
import io.fedmarket.functions.providers.ProviderRequests.ProvidersView;
import io.fedmarket.model.Addresses;
import jakarta.enterprise.context.ApplicationScoped;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/** Provider offers, keyed by (owner, name): registering the same name again updates it. Only the owner can see or change them. */
@ApplicationScoped
public class ProviderService {
    /** Far above any single GPU today (an H100 trains a small MLP at ~10^6 samples/s): a typo guard, not a limit. */
    static final double MAX_SAMPLES_PER_SECOND = 1e8;
    /** Below any real measurement (a CPU trains the CNN at ~100 samples/s): refuses 0, denormals and other non-speeds. */
    static final double MIN_SAMPLES_PER_SECOND = 1e-3;
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$");
    private static final Pattern REGION = Pattern.compile("^[a-z]{2}-[a-z]+-[0-9]{1,2}$");
    private static final Pattern DOMAIN = Pattern.compile("^[a-z0-9][a-z0-9-]{0,62}$");
    private static final Pattern ROOT = Pattern.compile("^0x[0-9a-fA-F]{64}$");

    public GpuProviderView upsertGpu(Caller caller, GpuProviderRequest r) {
        Violations v = new Violations();
        if (v.present("name", r.name())) {
            v.check(NAME.matcher(r.name()).matches(), "name", "must be 1-64 letters, digits, space . _ -");
        }
        if (v.present("gpuModel", r.gpuModel())) {
            v.check(NAME.matcher(r.gpuModel()).matches(), "gpuModel", "must be 1-64 letters, digits, space . _ - (e.g. \"L4\")");
        }
        v.range("gpuCount", r.gpuCount(), 1, 4096);
        v.range("gpuMemoryGib", r.gpuMemoryGib(), 1, 4096);
        BigInteger ask = v.amount("askPerGpuSecond", r.askPerGpuSecond());
        if (v.present("region", r.region())) {
            v.check(REGION.matcher(r.region()).matches(), "region", "must be an AWS-style region such as eu-west-1");
        }
        if (r.samplesPerSecond() != null) {
            v.check(Double.isFinite(r.samplesPerSecond()) && r.samplesPerSecond() >= MIN_SAMPLES_PER_SECOND && r.samplesPerSecond() <= MAX_SAMPLES_PER_SECOND,
                    "samplesPerSecond", "must be a measured speed from " + MIN_SAMPLES_PER_SECOND + " to " + (long) MAX_SAMPLES_PER_SECOND
                            + " (measure it with ./mkt bench train on that GPU), or left out");
        }
        v.throwIfAny("gpu provider");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Object[] row = Db.session(s -> s.createNativeQuery("insert into gpu_providers (id, owner, name, gpu_model, gpu_count, gpu_memory_gib, ask_per_gpu_second, region, samples_per_second, created_at, updated_at) "
                        + "values (:id, :o, :n, :m, :c, :g, :a, :r, :sps, :t, :t) on conflict (owner, name) do update set gpu_model = excluded.gpu_model, gpu_count = excluded.gpu_count, "
                        + "gpu_memory_gib = excluded.gpu_memory_gib, ask_per_gpu_second = excluded.ask_per_gpu_second, region = excluded.region, "
                        + "samples_per_second = case when :keep then gpu_providers.samples_per_second else excluded.samples_per_second end, updated_at = excluded.updated_at "
                        + "returning id, samples_per_second, assigned_tasks, completed_tasks", Object[].class)
                .setParameter("id", UUID.randomUUID()).setParameter("o", caller.address()).setParameter("n", r.name()).setParameter("m", r.gpuModel())
                .setParameter("c", r.gpuCount()).setParameter("g", r.gpuMemoryGib()).setParameter("a", new BigDecimal(ask)).setParameter("r", r.region())
                .setParameter("sps", r.samplesPerSecond() == null ? 0.0 : r.samplesPerSecond())
                .setParameter("keep", r.samplesPerSecond() == null).setParameter("t", now).getSingleResult());
        return new GpuProviderView(row[0].toString(), Addresses.checksummed(caller.address()), r.name(), r.gpuModel(), r.gpuCount(), r.gpuMemoryGib(),
                ask.toString(), r.region(), ((Number) row[1]).doubleValue(), ((Number) row[2]).longValue(), ((Number) row[3]).longValue(), now.toString());
    }

    public DataProviderView upsertData(Caller caller, DataProviderRequest r) {
        Violations v = new Violations();
        if (v.present("name", r.name())) {
            v.check(NAME.matcher(r.name()).matches(), "name", "must be 1-64 letters, digits, space . _ -");
        }
        if (v.present("domain", r.domain())) {
            v.check(DOMAIN.matcher(r.domain()).matches(), "domain", "must be lower-case letters, digits and '-' (e.g. \"fashion-mnist\")");
        }
        if (v.present("region", r.region())) {
            v.check(REGION.matcher(r.region()).matches(), "region", "must be an AWS-style region such as eu-west-1");
        }
        if (v.present("sampleCount", r.sampleCount())) {
            v.check(r.sampleCount() >= 1 && r.sampleCount() <= 10_000_000_000L, "sampleCount", "must be between 1 and 10^10");
        }
        if (v.present("labelHistogram", r.labelHistogram())) {
            Map<String, Long> h = r.labelHistogram();
            v.check(!h.isEmpty() && h.size() <= 1000, "labelHistogram", "must have 1 to 1000 labels");
            v.check(h.values().stream().allMatch(c -> c != null && c >= 0), "labelHistogram", "counts must be >= 0");
            v.check(h.keySet().stream().allMatch(Violations::label), "labelHistogram", Violations.LABEL_RULE);
            if (r.sampleCount() != null && h.values().stream().allMatch(c -> c != null)) {
                // exact: counts near Long.MAX_VALUE must not wrap around to the sample count
                BigInteger sum = h.values().stream().map(BigInteger::valueOf).reduce(BigInteger.ZERO, BigInteger::add);
                v.check(sum.equals(BigInteger.valueOf(r.sampleCount())), "labelHistogram", "counts sum to " + sum + " but sampleCount is " + r.sampleCount()
                        + ": they must be equal");
            }
        }
        if (v.present("datasetRoot", r.datasetRoot())) {
            v.check(ROOT.matcher(r.datasetRoot()).matches(), "datasetRoot", "must be the 0x-prefixed 32-byte Merkle root of the sample hashes");
        }
        if (r.source() != null) {
            for (String[] p : r.source().problems("source")) {
                v.check(false, p[0], p[1]);
            }
        }
        v.throwIfAny("data provider");
        io.fedmarket.messages.DataSource source = r.source() == null ? null : r.source().normalized();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        String root = r.datasetRoot().toLowerCase();
        String hist = Json.write(new LinkedHashMap<>(r.labelHistogram()));
        Object id = Db.session(s -> s.createNativeQuery("insert into data_providers (id, owner, name, domain, region, sample_count, label_histogram, dataset_root, source, created_at, updated_at) "
                        + "values (:id, :o, :n, :d, :r, :c, :h, :root, :src, :t, :t) on conflict (owner, name) do update set domain = excluded.domain, region = excluded.region, "
                        + "sample_count = excluded.sample_count, label_histogram = excluded.label_histogram, dataset_root = excluded.dataset_root, "
                        + "source = excluded.source, updated_at = excluded.updated_at returning id", Object.class)
                .setParameter("id", UUID.randomUUID()).setParameter("o", caller.address()).setParameter("n", r.name()).setParameter("d", r.domain())
                .setParameter("r", r.region()).setParameter("c", r.sampleCount()).setParameter("h", hist).setParameter("root", root)
                .setParameter("src", source == null ? null : Json.write(source)).setParameter("t", now)
                .getSingleResult());
        return new DataProviderView(id.toString(), Addresses.checksummed(caller.address()), r.name(), r.domain(), r.region(), r.sampleCount(),
                r.labelHistogram(), root, source, now.toString());
    }

    @SuppressWarnings("unchecked")
    public ProvidersView mine(Caller caller) {
        return Db.session(s -> s.createNativeQuery("select id, name, gpu_model, gpu_count, gpu_memory_gib, ask_per_gpu_second, region, samples_per_second, "
                        + "assigned_tasks, completed_tasks, updated_at from gpu_providers where owner = :o order by name", Object[].class)
                .setParameter("o", caller.address()).getResultList()
                .chain(gpus -> s.createNativeQuery("select id, name, domain, region, sample_count, label_histogram, dataset_root, updated_at, source from data_providers where owner = :o order by name", Object[].class)
                        .setParameter("o", caller.address()).getResultList()
                        .chain(data -> s.createNativeQuery("select amount, unbonding, unbonding_at, slashed_total, last_slashed_at, block_number from bonds where address = :o", Object[].class)
                                .setParameter("o", caller.address()).getResultList()
                                .map(bonds -> {
                                    String owner = Addresses.checksummed(caller.address());
                                    List<GpuProviderView> g = gpus.stream().map(x -> new GpuProviderView(x[0].toString(), owner, (String) x[1], (String) x[2],
                                            ((Number) x[3]).intValue(), ((Number) x[4]).intValue(), big(x[5]), (String) x[6], ((Number) x[7]).doubleValue(),
                                            ((Number) x[8]).longValue(), ((Number) x[9]).longValue(), String.valueOf(ts(x[10])))).toList();
                                    List<DataProviderView> d = data.stream().map(x -> new DataProviderView(x[0].toString(), owner, (String) x[1], (String) x[2],
                                            (String) x[3], ((Number) x[4]).longValue(), Json.parse((String) x[5], io.fedmarket.functions.consumers.MatchService.LabelHistogram.class), (String) x[6],
                                            x[8] == null ? null : Json.parse((String) x[8], io.fedmarket.messages.DataSource.class), String.valueOf(ts(x[7])))).toList();
                                    BondView b = bonds.isEmpty() ? null : new BondView(big(bonds.get(0)[0]), big(bonds.get(0)[1]), str(ts(bonds.get(0)[2])),
                                            big(bonds.get(0)[3]), str(ts(bonds.get(0)[4])), ((Number) bonds.get(0)[5]).longValue());
                                    return new ProvidersView(owner, g, d, b);
                                }))));
    }

    private static String big(Object v) {
        return v == null ? "0" : (v instanceof BigDecimal d ? d.toBigInteger().toString() : v.toString());
    }

    private static String str(Object v) {
        return v == null ? null : v.toString();
    }

    private static Instant ts(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Instant i) {
            return i;
        }
        if (v instanceof java.time.OffsetDateTime o) {
            return o.toInstant();
        }
        if (v instanceof java.time.LocalDateTime l) {
            return l.toInstant(java.time.ZoneOffset.UTC);
        }
        return Instant.parse(v.toString());
    }
}
