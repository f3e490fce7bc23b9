package io.fedmarket.matching.bench;

import io.fedmarket.matching.DataCandidate;
import io.fedmarket.matching.GpuCandidate;
import io.fedmarket.matching.MatchRequest;
import io.fedmarket.matching.ReliabilityStats;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded market instances with the shapes real markets have: log-normal asks, speeds and data-set sizes, Dirichlet
 * label histograms (non-IID data), Beta reliability, a few under-bonded or recently slashed providers, a skewed
 * spread over regions. Same seed, same instance.
 */
public final class InstanceGenerator {
    public static final String DOMAIN = "medical-imaging";
    static final String[] REGIONS = {"eu-west-1", "us-east-1", "eu-central-1", "us-west-2", "ap-south-1", "ap-northeast-1",
            "sa-east-1", "eu-north-1", "us-east-2", "ap-southeast-2"};
    static final Instant NOW = Instant.parse("2026-11-25T00:00:00Z");
    static final BigInteger REQUIRED_BOND = BigInteger.valueOf(1_000_000_000L);
    static final double MEDIAN_ASK = 1_000;      // base units per GPU-second (USDC 6 decimals: 0.001 USDC)
    static final double MEDIAN_SPEED = 400;      // samples per second per GPU
    static final double MEDIAN_SAMPLES = 20_000;

    /** One instance: the intent and the market. */
    public record Instance(MatchRequest request, List<DataCandidate> data, List<GpuCandidate> gpus) {
    }

    /**
     * Shape of an instance.
     *
     * @param budgetTightness budget as a fraction of max participants × a median job's cost at the max price
     * @param maxCapacity     most GPUs per GPU provider
     */
    public record Shape(int dataProviders, int gpuProviders, int labels, int regions, int minParticipants, int maxParticipants,
                        int rounds, double budgetTightness, int maxCapacity) {
    }

    private InstanceGenerator() {
    }

    /** A market of {@code providers} candidates, half data and half GPU providers, for a job of 5 to 30 participants. */
    public static Instance market(long seed, int providers) {
        return generate(seed, new Shape(providers / 2, providers - providers / 2, 10, 8, 5, 30, 10, 0.8, 8));
    }

    /** A small instance the exact solver enumerates in milliseconds: 6–9 data, 3–6 GPU providers, 2–5 participants. */
    public static Instance small(long seed) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 17);
        int nd = 6 + r.nextInt(4);
        int ng = 3 + r.nextInt(4);
        int max = 2 + r.nextInt(4);
        int min = 1 + r.nextInt(2);
        return generate(seed, new Shape(nd, ng, 4 + r.nextInt(3), 3, Math.min(min, max), max, 5 + r.nextInt(10),
                0.3 + r.nextDouble() * 1.2, 2));
    }

    public static Instance generate(long seed, Shape s) {
        SplittableRandom r = new SplittableRandom(seed);
        String[] labels = new String[s.labels()];
        for (int l = 0; l < labels.length; l++) {
            labels[l] = "label-" + l;
        }
        double[] regionWeight = new double[s.regions()];
        for (int k = 0; k < regionWeight.length; k++) {
            regionWeight[k] = 1.0 / (k + 1); // Zipf: a few big regions, a long tail
        }
        List<DataCandidate> data = new ArrayList<>(s.dataProviders());
        for (int i = 0; i < s.dataProviders(); i++) {
            double u = r.nextDouble();
            String domain = u < 0.7 ? DOMAIN : u < 0.9 ? "speech" : "finance";
            long n = Math.max(50, Math.round(logNormal(r, MEDIAN_SAMPLES, 0.8)));
            double[] mix = dirichlet(r, labels.length, 0.6);
            Map<String, Long> hist = new LinkedHashMap<>();
            for (int l = 0; l < labels.length; l++) {
                long c = Math.round(mix[l] * n);
                if (c > 0) {
                    hist.put(labels[l], c);
                }
            }
            data.add(new DataCandidate(String.format("data-%06d", i), domain, REGIONS[pick(r, regionWeight)], n, hist, bond(r),
                    slash(r), reliability(r)));
        }
        List<GpuCandidate> gpus = new ArrayList<>(s.gpuProviders());
        for (int g = 0; g < s.gpuProviders(); g++) {
            int cap = 1;
            while (cap < s.maxCapacity() && r.nextDouble() < 0.5) {
                cap++;
            }
            long ask = Math.max(1, Math.round(logNormal(r, MEDIAN_ASK, 0.45)));
            double speed = logNormal(r, MEDIAN_SPEED, 0.5);
            gpus.add(new GpuCandidate(String.format("gpu-%06d", g), REGIONS[pick(r, regionWeight)], cap, BigInteger.valueOf(ask), speed,
                    bond(r), slash(r), reliability(r)));
        }
        double[] target = dirichlet(r, labels.length, 5.0);
        Map<String, Double> targetMap = new LinkedHashMap<>();
        for (int l = 0; l < labels.length; l++) {
            targetMap.put(labels[l], target[l]);
        }
        int epochs = 2;
        long perRoundAllowed = 300;
        long overhead = 60;
        BigInteger maxPrice = BigInteger.valueOf(Math.round(MEDIAN_ASK * 1.3));
        double medianJobCost = maxPrice.doubleValue() * s.rounds() * (MEDIAN_SAMPLES * epochs / MEDIAN_SPEED);
        BigInteger budget = BigInteger.valueOf(Math.max(1, Math.round(s.budgetTightness() * s.maxParticipants() * medianJobCost)));
        MatchRequest request = MatchRequest.builder()
                .intentId("intent-" + seed)
                .domain(DOMAIN)
                .requiredLabels(List.of(labels).subList(0, Math.min(3, labels.length)))
                .targetLabelDistribution(targetMap)
                .rounds(s.rounds())
                .localEpochs(epochs)
                .participants(s.minParticipants(), s.maxParticipants())
                .budget(budget)
                .maxPricePerGpuSecond(maxPrice)
                .now(NOW)
                .deadline(NOW.plusSeconds((perRoundAllowed + overhead) * s.rounds()))
                .roundOverheadSeconds(overhead)
                .requiredBond(REQUIRED_BOND)
                .slashCooldown(Duration.ofDays(30))
                .build();
        return new Instance(request, data, gpus);
    }

    private static BigInteger bond(SplittableRandom r) {
        return BigInteger.valueOf(Math.round(logNormal(r, 2.0 * REQUIRED_BOND.doubleValue(), 0.7)));
    }

    private static Instant slash(SplittableRandom r) {
        if (r.nextDouble() >= 0.04) {
            return null;
        }
        return NOW.minusSeconds(r.nextLong(120L * 86_400));
    }

    private static ReliabilityStats reliability(SplittableRandom r) {
        double completion = beta(r, 9, 1.2);
        long assigned = r.nextLong(300);
        long completed = binomialApprox(r, assigned, completion);
        double pass = beta(r, 20, 0.8);
        long verified = assigned / 5;
        long passed = binomialApprox(r, verified, pass);
        return new ReliabilityStats(assigned, completed, verified, passed);
    }

    private static long binomialApprox(SplittableRandom r, long n, double p) {
        double x = n * p + r.nextGaussian() * Math.sqrt(n * p * (1 - p));
        return Math.max(0, Math.min(n, Math.round(x)));
    }

    static double logNormal(SplittableRandom r, double median, double sigma) {
        return median * Math.exp(sigma * r.nextGaussian());
    }

    static double[] dirichlet(SplittableRandom r, int k, double alpha) {
        double[] x = new double[k];
        double sum = 0;
        for (int i = 0; i < k; i++) {
            x[i] = gamma(r, alpha);
            sum += x[i];
        }
        for (int i = 0; i < k; i++) {
            x[i] = sum > 0 ? x[i] / sum : 1.0 / k;
        }
        return x;
    }

    static double beta(SplittableRandom r, double a, double b) {
        double x = gamma(r, a);
        double y = gamma(r, b);
        return x / (x + y);
    }

    /** Marsaglia–Tsang; shape below 1 through the boost Gamma(a) = Gamma(a+1) · U^(1/a). */
    static double gamma(SplittableRandom r, double shape) {
        if (shape < 1) {
            return gamma(r, shape + 1) * Math.pow(r.nextDouble(), 1.0 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1.0 / Math.sqrt(9 * d);
        while (true) {
            double x = r.nextGaussian();
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = r.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    private static int pick(SplittableRandom r, double[] weights) {
        double sum = 0;
        for (double w : weights) {
            sum += w;
        }
        double u = r.nextDouble() * sum;
        for (int k = 0; k < weights.length; k++) {
            u -= weights[k];
            if (u < 0) {
                return k;
            }
        }
        return weights.length - 1;
    }
}
