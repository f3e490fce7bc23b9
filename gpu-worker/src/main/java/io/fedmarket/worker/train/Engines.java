package io.fedmarket.worker.train;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The PyTorch engine's thread settings. Bit-exact re-execution holds only for the same intra-op
 * thread count (STACK-NOTES), so a task names its count and the worker switches to it before
 * training, then records what the engine reports.
 */
public final class Engines {
    private Engines() {
    }

    public static synchronized void useThreads(int threads) {
        Engine.getEngine("PyTorch");
        if (JniUtils.getNumThreads() != threads) {
            JniUtils.setNumThreads(threads);
        }
        if (JniUtils.getNumThreads() != threads) {
            throw new IllegalStateException("PyTorch refused " + threads + " intra-op threads (has " + JniUtils.getNumThreads() + ")");
        }
    }

    public static int threads() {
        Engine.getEngine("PyTorch");
        return JniUtils.getNumThreads();
    }

    public static int interopThreads() {
        Engine.getEngine("PyTorch");
        return JniUtils.getNumInteropThreads();
    }

    public static String description() {
        Engine e = Engine.getEngine("PyTorch");
        return "PyTorch " + e.getVersion() + (e.getGpuCount() > 0 ? " gpu" : " cpu") + " (DJL " + Engine.getDjlVersion() + ")";
    }
}
