package io.fedmarket.fl.privacy;

import java.util.ArrayList;
import java.util.List;

/**
 * Rényi-DP accountant for the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019), the
 * same computation as TensorFlow Privacy's {@code rdp_accountant} restricted to integer
 * orders, where A_α has the exact binomial expansion
 * <pre>  A_α = Σ_{k=0..α} C(α,k) (1−q)^{α−k} q^k exp((k²−k)/(2σ²)).</pre>
 * Integer orders only make ε slightly larger than with fractional orders: conservative.
 * Conversion to (ε, δ) uses the tighter bound of Balle et al. 2020 (Thm 21), as Opacus and
 * current TF Privacy do; {@link #epsilonClassic} gives Mironov 2017 Prop. 3.
 *
 * <p>For client-level DP-FedAvg: q = clients sampled per round / all clients, σ = noise
 * multiplier, steps = rounds.
 */
public final class RdpAccountant {
    /** 2..256: covers the optimum for the ε ranges FL jobs use (about 0.1 to 50). */
    public static final int[] DEFAULT_ORDERS = defaultOrders();

    private final int[] orders;
    private final double[] rdp;

    public RdpAccountant() {
        this(DEFAULT_ORDERS);
    }

    public RdpAccountant(int[] orders) {
        for (int a : orders) {
            if (a < 2) {
                throw new IllegalArgumentException("RDP orders must be integers >= 2 but got " + a);
            }
        }
        this.orders = orders.clone();
        this.rdp = new double[orders.length];
    }

    /** Records {@code steps} applications of the sampled Gaussian mechanism; returns this. */
    public RdpAccountant step(double samplingRate, double noiseMultiplier, long steps) {
        if (!(samplingRate >= 0 && samplingRate <= 1)) {
            throw new IllegalArgumentException("sampling rate must be in [0, 1] but was " + samplingRate);
        }
        if (!(noiseMultiplier > 0)) {
            throw new IllegalArgumentException("noise multiplier must be > 0 for a finite epsilon but was "
                    + noiseMultiplier);
        }
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0 but was " + steps);
        }
        for (int i = 0; i < orders.length; i++) {
            rdp[i] += steps * rdpOfSampledGaussian(samplingRate, noiseMultiplier, orders[i]);
        }
        return this;
    }

    /** RDP at order α of one sampled Gaussian step. */
    public static double rdpOfSampledGaussian(double q, double sigma, int alpha) {
        if (q == 0) {
            return 0;
        }
        if (q == 1) {
            return alpha / (2 * sigma * sigma);
        }
        double logA = Double.NEGATIVE_INFINITY;
        double logQ = Math.log(q);
        double log1mQ = Math.log1p(-q);
        for (int k = 0; k <= alpha; k++) {
            double s = logBinomial(alpha, k) + k * logQ + (alpha - k) * log1mQ + (k * (double) k - k) / (2 * sigma * sigma);
            logA = logAdd(logA, s);
        }
        return logA / (alpha - 1);
    }

    public int[] orders() {
        return orders.clone();
    }

    public double[] rdp() {
        return rdp.clone();
    }

    /** The (ε, optimal order) for the given δ after all recorded steps. */
    public Spent epsilon(double delta) {
        requireDelta(delta);
        double best = Double.POSITIVE_INFINITY;
        int bestOrder = orders.length == 0 ? 0 : orders[0];
        for (int i = 0; i < orders.length; i++) {
            double a = orders[i];
            double eps = rdp[i] - (Math.log(delta) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
            if (eps < best) {
                best = eps;
                bestOrder = orders[i];
            }
        }
        return new Spent(Math.max(0, best), delta, bestOrder);
    }

    /** Mironov 2017 Prop. 3: ε = min_α RDP(α) + log(1/δ)/(α−1). */
    public Spent epsilonClassic(double delta) {
        requireDelta(delta);
        double best = Double.POSITIVE_INFINITY;
        int bestOrder = orders.length == 0 ? 0 : orders[0];
        for (int i = 0; i < orders.length; i++) {
            double eps = rdp[i] - Math.log(delta) / (orders[i] - 1);
            if (eps < best) {
                best = eps;
                bestOrder = orders[i];
            }
        }
        return new Spent(best, delta, bestOrder);
    }

    public record Spent(double epsilon, double delta, int order) {
    }

    private static void requireDelta(double delta) {
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("delta must be in (0, 1) but was " + delta
                    + "; use less than 1/(number of data points), e.g. 1e-5");
        }
    }

    static double logAdd(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) {
            return b;
        }
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        double hi = Math.max(a, b);
        return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
    }

    static double logBinomial(int n, int k) {
        return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
    }

    private static final double[] LOG_FACT = new double[1025];

    static {
        for (int i = 1; i < LOG_FACT.length; i++) {
            LOG_FACT[i] = LOG_FACT[i - 1] + Math.log(i);
        }
    }

    private static double logFactorial(int n) {
        if (n < LOG_FACT.length) {
            return LOG_FACT[n];
        }
        double s = LOG_FACT[LOG_FACT.length - 1];
        for (int i = LOG_FACT.length; i <= n; i++) {
            s += Math.log(i);
        }
        return s;
    }

    private static int[] defaultOrders() {
        List<Integer> o = new ArrayList<>();
        for (int a = 2; a <= 64; a++) {
            o.add(a);
        }
        for (int a : new int[] {80, 96, 128, 160, 192, 256}) {
            o.add(a);
        }
        return o.stream().mapToInt(Integer::intValue).toArray();
    }
}
