package io.fedmarket.worker.train;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.fedmarket.fl.model.Evaluator;
import io.fedmarket.fl.model.Inference;
import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.worker.model.ModelSpec;

import java.nio.FloatBuffer;

/**
 * The cheap checks' validation loss with DJL (PyTorch engine), for every catalogue model, ResNet included: the block is
 * built as the worker builds it, loaded with the parameters (batch-norm running statistics included) and run in
 * inference mode (batch norm uses the running statistics, nothing is updated), in batches of 64; the logits are scored
 * by shared's {@link Inference.Score}, as the plain-Java evaluator scores its own. Registered through
 * {@code META-INF/services/io.fedmarket.fl.model.Evaluator}, so {@link io.fedmarket.fl.model.Evaluators} finds it wherever
 * the gpu-worker jar and the engine are on the classpath.
 */
public final class DjlEvaluator implements Evaluator {
    private static final int BATCH = 64;

    @Override
    public String name() {
        return "djl-pytorch";
    }

    @Override
    public boolean supports(ModelLayouts.Layout layout) {
        return true;
    }

    @Override
    public Inference.Evaluation evaluate(ModelLayouts.Layout layout, float[] flatParams, float[] inputs, int[] labels) {
        int n = labels.length;
        int per = layout.inputSize();
        if (n == 0 || (long) inputs.length != (long) n * per) {
            throw new IllegalArgumentException(inputs.length + " values do not make " + n + " inputs of " + layout.inputText());
        }
        if (flatParams.length != layout.parameterCount()) {
            throw new IllegalArgumentException("a vector of " + flatParams.length + " parameters does not fit model " + layout.spec()
                    + " of " + layout.parameterCount() + " parameters");
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= layout.classes()) {
                throw new IllegalArgumentException("label " + labels[i] + " at " + i + " is outside 0.." + (layout.classes() - 1));
            }
        }
        ModelSpec spec = ModelSpec.parse(layout.spec());
        if (spec.isTorchScript()) {
            return evaluateTorchScript(layout, spec, flatParams, inputs, labels);
        }
        ai.djl.engine.Engine.getEngine("PyTorch");
        ai.djl.pytorch.jni.JniUtils.setGradMode(false); // set() on a parameter is an in-place op (TrainingSession.noGrad)
        try (Model model = Model.newInstance("evaluate-" + layout.spec(), "PyTorch")) {
            NDManager manager = model.getNDManager();
            SequentialBlock block = spec.newBlock();
            model.setBlock(block);
            block.initialize(manager, DataType.FLOAT32, spec.inputShape(1));
            int o = 0;
            int t = 0;
            for (Pair<String, Parameter> p : block.getParameters()) {
                if (!p.getKey().equals(layout.names().get(t))) {
                    throw new IllegalStateException("block tensor " + t + " is " + p.getKey() + ", the layout's " + layout.names().get(t));
                }
                NDArray a = p.getValue().getArray();
                int len = Math.toIntExact(a.getShape().size());
                a.set(FloatBuffer.wrap(flatParams, o, len));
                o += len;
                t++;
            }
            ParameterStore store = new ParameterStore(manager, false);
            Inference.Score score = new Inference.Score(layout.classes());
            for (int from = 0; from < n; from += BATCH) {
                int b = Math.min(BATCH, n - from);
                try (NDManager sub = manager.newSubManager()) {
                    NDArray x = sub.create(FloatBuffer.wrap(inputs, from * per, b * per), spec.inputShape(b));
                    float[] logits = block.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
                    for (int i = 0; i < b; i++) {
                        score.add(logits, i * layout.classes(), labels[from + i]);
                    }
                }
            }
            return score.evaluation();
        }
    }

    /** An uploaded TorchScript model: the file with these tensors (parameters and buffers, layout order), run in eval mode. */
    private static Inference.Evaluation evaluateTorchScript(ModelLayouts.Layout layout, ModelSpec spec, float[] flatParams, float[] inputs,
                                                            int[] labels) {
        ai.djl.engine.Engine.getEngine("PyTorch");
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
        float[][] values = new float[layout.tensorCount()][];
        int o = 0;
        for (int t = 0; t < values.length; t++) {
            int len = Math.toIntExact(java.util.Arrays.stream(layout.shapes().get(t)).reduce(1, Math::multiplyExact));
            values[t] = java.util.Arrays.copyOfRange(flatParams, o, o + len);
            o += len;
        }
        io.fedmarket.fl.model.ModelState state = new io.fedmarket.fl.model.ModelState(layout.names(), layout.shapes(), values, null, 0);
        int n = labels.length;
        int per = layout.inputSize();
        try (io.fedmarket.worker.model.TorchScriptModel m = io.fedmarket.worker.model.TorchScriptModel.load(layout, state)) {
            NDManager manager = m.model().getNDManager();
            ParameterStore store = new ParameterStore(manager, false);
            Inference.Score score = new Inference.Score(layout.classes());
            for (int from = 0; from < n; from += BATCH) {
                int b = Math.min(BATCH, n - from);
                try (NDManager sub = manager.newSubManager()) {
                    NDArray x = sub.create(FloatBuffer.wrap(inputs, from * per, b * per), spec.inputShape(b));
                    NDArray out = m.block().forward(store, new NDList(x), false).singletonOrThrow();
                    if (out.getShape().dimension() != 2 || out.getShape().get(1) != layout.classes()) {
                        throw new IllegalArgumentException("model " + layout.spec() + " outputs " + out.getShape() + " for " + b
                                + " inputs, not (" + b + ", " + layout.classes() + ")");
                    }
                    float[] logits = out.toFloatArray();
                    for (int i = 0; i < b; i++) {
                        score.add(logits, i * layout.classes(), labels[from + i]);
                    }
                }
            }
            return score.evaluation();
        }
    }
}
