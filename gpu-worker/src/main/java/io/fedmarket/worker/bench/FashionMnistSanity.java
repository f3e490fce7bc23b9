package io.fedmarket.worker.bench;

import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.model.ModelSpec;
import io.fedmarket.worker.train.BatchPlan;
import io.fedmarket.worker.train.Engines;
import io.fedmarket.worker.train.TrainingSession;

/**
 * Sanity check of the training code: the NIID-Bench CNN trained centrally on Fashion-MNIST
 * (batch 64, SGD lr 0.01 momentum 0.9, the worker's own init, batch order and optimiser) must
 * reach ≥ 85% test accuracy. Args: {@code [epochs=6] [threads=2] [--json]}. Exit 1 below 85%.
 */
public final class FashionMnistSanity {
    private FashionMnistSanity() {
    }

    public static void main(String[] args) {
        int epochs = 6;
        int threads = Math.min(2, Runtime.getRuntime().availableProcessors());
        boolean json = false;
        int pos = 0;
        for (String a : args) {
            if (a.equals("--json")) {
                json = true;
            } else if (pos++ == 0) {
                epochs = Integer.parseInt(a);
            } else {
                threads = Integer.parseInt(a);
            }
        }
        long t0 = System.nanoTime();
        Engines.useThreads(threads);
        ImageData train = Datasets.load("fashion-mnist");
        ImageData test = Datasets.load("fashion-mnist-test");
        int[] all = new int[train.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        ModelSpec spec = ModelSpec.parse("cnn");
        BatchPlan plan = new BatchPlan(all, 64, 2024);
        double acc = 0;
        StringBuilder perEpoch = new StringBuilder();
        long trainNanos = 0;
        try (TrainingSession s = TrainingSession.open(spec, 64, TrainingSession.initialState(spec, 2024),
                TrainingSession.initialState(spec, 2024), 0.01, 0.9, 0)) {
            for (int e = 0; e < epochs; e++) {
                long a = System.nanoTime();
                for (int st = e * plan.stepsPerEpoch(); st < (e + 1) * plan.stepsPerEpoch(); st++) {
                    s.step(train, plan.batch(st));
                }
                trainNanos += System.nanoTime() - a;
                acc = s.accuracy(test, 500);
                perEpoch.append(perEpoch.isEmpty() ? "" : ",").append(String.format("%.4f", acc));
                if (!json) {
                    System.out.printf("epoch %d: test accuracy %.2f%% (%.1f s training so far)%n", e + 1, acc * 100, trainNanos / 1e9);
                }
            }
        }
        double total = (System.nanoTime() - t0) / 1e9;
        if (json) {
            System.out.printf("{\"model\":\"cnn\",\"epochs\":%d,\"threads\":%d,\"testAccuracy\":%.4f,\"perEpoch\":[%s],"
                    + "\"trainSeconds\":%.1f,\"totalSeconds\":%.1f,\"passed\":%b}%n", epochs, threads, acc, perEpoch,
                    trainNanos / 1e9, total, acc >= 0.85);
        } else {
            System.out.printf("CNN on Fashion-MNIST: %.2f%% after %d epochs, %.1f s (%s)%n", acc * 100, epochs, total,
                    acc >= 0.85 ? "PASS ≥ 85%" : "FAIL < 85%");
        }
        System.exit(acc >= 0.85 ? 0 : 1);
    }
}
