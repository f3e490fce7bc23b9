package io.fedmarket.matching;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The registered providers in columns of primitives, independent of any intent. Building it reads every candidate
 * object once (pointer chasing over the heap, the dominant cost of a solve from lists at 100k providers); solving
 * against it reads only flat arrays. The {@code match} consumer can keep one per warm container and rebuild it when
 * providers change; {@link MatchingSolver#solve(MatchRequest, List, List)} builds a fresh one per call. Immutable and
 * safe to share between threads.
 */
public final class MarketSnapshot {
    static final long NEVER = Long.MIN_VALUE;

    // data providers
    final int nData;
    final DataCandidate[] data;
    final int[] dataDomain;          // id in domainIds
    final long[] dataBond;           // capped at Long.MAX_VALUE
    final long[] dataSlashedAt;      // epoch seconds, NEVER if never slashed
    final long[] sampleCount;
    final double[] dataRel;
    final int[] dataRegion;
    final int[] histStart;           // CSR rows of label counts
    final int[] histLabel;           // id in labelIds
    final long[] histCount;
    final Map<String, Integer> domainIds = new HashMap<>();
    final Map<String, Integer> labelIds = new HashMap<>();

    // GPU providers
    final int nGpu;
    final GpuCandidate[] gpu;
    final BigInteger[] ask;
    final long[] askCapped;
    final double[] askD;
    final long[] gpuBond;
    final long[] gpuSlashedAt;
    final int[] capacity;
    final double[] speed;
    final double[] gpuRel;
    final int[] gpuRegion;
    final int[] gpuByAsk;            // ask ascending, ties by index
    final int[] gpuBySpeedDesc;      // measured speed descending
    final int[] gpuRelRank;          // rank by reliability descending

    // regions shared by both roles
    final List<String> regionNames = new ArrayList<>();
    final double[][] fit;

    private MarketSnapshot(List<DataCandidate> dataCandidates, List<GpuCandidate> gpuCandidates) {
        Map<String, Integer> regionIds = new HashMap<>();
        nData = dataCandidates.size();
        data = dataCandidates.toArray(new DataCandidate[0]);
        dataDomain = new int[nData];
        dataBond = new long[nData];
        dataSlashedAt = new long[nData];
        sampleCount = new long[nData];
        dataRel = new double[nData];
        dataRegion = new int[nData];
        histStart = new int[nData + 1];
        int nnz = 0;
        int[] lab = new int[Math.max(16, nData * 4)];
        long[] cnt = new long[lab.length];
        for (int i = 0; i < nData; i++) {
            DataCandidate c = Objects.requireNonNull(data[i], "data candidate " + i + " is null");
            dataDomain[i] = domainIds.computeIfAbsent(c.domain().toLowerCase(Locale.ROOT), k -> domainIds.size());
            dataBond[i] = capped(c.bond());
            dataSlashedAt[i] = c.lastSlashedAt() == null ? NEVER : c.lastSlashedAt().getEpochSecond();
            sampleCount[i] = c.sampleCount();
            dataRel[i] = c.reliability().expectedCompletion();
            dataRegion[i] = regionIds.computeIfAbsent(c.region(), this::newRegion);
            histStart[i] = nnz;
            for (Map.Entry<String, Long> e : c.labelHistogram().entrySet()) {
                if (e.getValue() <= 0) {
                    continue;
                }
                if (nnz == lab.length) {
                    lab = java.util.Arrays.copyOf(lab, nnz * 2);
                    cnt = java.util.Arrays.copyOf(cnt, nnz * 2);
                }
                lab[nnz] = labelIds.computeIfAbsent(e.getKey(), k -> labelIds.size());
                cnt[nnz] = e.getValue();
                nnz++;
            }
        }
        histStart[nData] = nnz;
        histLabel = java.util.Arrays.copyOf(lab, nnz);
        histCount = java.util.Arrays.copyOf(cnt, nnz);

        nGpu = gpuCandidates.size();
        gpu = gpuCandidates.toArray(new GpuCandidate[0]);
        ask = new BigInteger[nGpu];
        askCapped = new long[nGpu];
        askD = new double[nGpu];
        gpuBond = new long[nGpu];
        gpuSlashedAt = new long[nGpu];
        capacity = new int[nGpu];
        speed = new double[nGpu];
        gpuRel = new double[nGpu];
        gpuRegion = new int[nGpu];
        for (int g = 0; g < nGpu; g++) {
            GpuCandidate c = Objects.requireNonNull(gpu[g], "GPU candidate " + g + " is null");
            ask[g] = c.askPerGpuSecond();
            askCapped[g] = capped(ask[g]);
            askD[g] = ask[g].doubleValue();
            gpuBond[g] = capped(c.bond());
            gpuSlashedAt[g] = c.lastSlashedAt() == null ? NEVER : c.lastSlashedAt().getEpochSecond();
            capacity[g] = c.capacityGpus();
            speed[g] = c.samplesPerSecond();
            gpuRel[g] = c.reliability().expectedCompletion();
            gpuRegion[g] = regionIds.computeIfAbsent(c.region(), this::newRegion);
        }
        // request-independent orders, so that a solve filters them instead of sorting
        gpuByAsk = Problem.sortedIndices(nGpu, askCapped, ask);
        gpuBySpeedDesc = GreedyRun.Prep.sortDescending(speed, nGpu);
        int[] byRel = GreedyRun.Prep.sortDescending(gpuRel, nGpu);
        gpuRelRank = new int[nGpu];
        for (int r = 0; r < nGpu; r++) {
            gpuRelRank[byRel[r]] = r;
        }
        int nr = regionNames.size();
        fit = new double[nr][nr];
        for (int a = 0; a < nr; a++) {
            for (int b = 0; b < nr; b++) {
                fit[a][b] = Problem.regionFit(regionNames.get(a), regionNames.get(b));
            }
        }
    }

    private int newRegion(String name) {
        regionNames.add(name);
        return regionNames.size() - 1;
    }

    /** Compiles the candidates; they are not copied, so do not mutate them while the snapshot is in use. */
    public static MarketSnapshot of(List<DataCandidate> dataProviders, List<GpuCandidate> gpuProviders) {
        Objects.requireNonNull(dataProviders, "dataProviders");
        Objects.requireNonNull(gpuProviders, "gpuProviders");
        return new MarketSnapshot(dataProviders, gpuProviders);
    }

    public int dataProviderCount() {
        return nData;
    }

    public int gpuProviderCount() {
        return nGpu;
    }

    static long capped(BigInteger v) {
        return v.bitLength() < 63 ? v.longValue() : Long.MAX_VALUE;
    }

    /** Data provider i's bond is at least {@code required}: on the capped longs, exact BigInteger only past 2^63. */
    boolean dataBonded(int i, BigInteger required, long requiredCapped) {
        return requiredCapped < Long.MAX_VALUE ? dataBond[i] >= requiredCapped : data[i].bond().compareTo(required) >= 0;
    }

    boolean gpuBonded(int g, BigInteger required, long requiredCapped) {
        return requiredCapped < Long.MAX_VALUE ? gpuBond[g] >= requiredCapped : gpu[g].bond().compareTo(required) >= 0;
    }

    /** Data provider i was slashed after {@code cutoff} (the Instant is read only when the seconds tie). */
    boolean dataSlashedAfter(int i, Instant cutoff) {
        long s = dataSlashedAt[i];
        return s != NEVER && (s != cutoff.getEpochSecond() ? s > cutoff.getEpochSecond() : data[i].lastSlashedAt().isAfter(cutoff));
    }

    boolean gpuSlashedAfter(int g, Instant cutoff) {
        long s = gpuSlashedAt[g];
        return s != NEVER && (s != cutoff.getEpochSecond() ? s > cutoff.getEpochSecond() : gpu[g].lastSlashedAt().isAfter(cutoff));
    }

    /** ask of g ≤ {@code price}. */
    boolean askAtMost(int g, BigInteger price, long priceCapped) {
        return priceCapped < Long.MAX_VALUE ? askCapped[g] <= priceCapped : ask[g].compareTo(price) <= 0;
    }
}
