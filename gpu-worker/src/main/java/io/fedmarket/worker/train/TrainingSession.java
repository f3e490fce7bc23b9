package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.util.Pair;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.model.ModelSpec;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One model being trained with DJL: parameters set from a {@link ModelState} (or initialised
 * from a seed by our own generator, so initialisation does not depend on the engine's RNG), one
 * SGD step per {@link #step}, every per-step NDArray in a sub-manager closed at the end of the
 * step. Engine threads must be fixed by the caller ({@link Engines#useThreads}). A batch norm's running
 * mean and variance are parameters of the block that need no gradient: the forward pass updates them, they
 * are in every {@link #snapshot} (so hashed, checkpointed and restored like the weights) and have no momentum.
 */
public final class TrainingSession implements AutoCloseable {
    /**
     * DJL's PyTorch gradient collector is one per process (a static flag: a second one fails with "A
     * PtGradientCollector is already collecting"), so sessions on different threads of one JVM (two task loops
     * in a test, a re-execution next to a benchmark) take turns for the forward/backward pass.
     */
    private static final Object GRADIENT_COLLECTION = new Object();

    private final ModelSpec spec;
    private final int batch;
    private final float lr;
    private final float momentum;
    private final float mu;
    private final Model model;
    private final Trainer trainer;
    private final NDManager manager;
    private final FedSgd optimizer;
    private final List<Pair<String, Parameter>> params;
    /** A TorchScript model: the loaded module, and for each of {@link #params} its index in the state (buffers are not params). */
    private final io.fedmarket.worker.model.TorchScriptModel script;
    private final int[] stateIndex;
    private final float[] xBuf;
    private final float[] yBuf;
    private int step;

    private TrainingSession(ModelSpec spec, int batch, ModelState start, ModelState anchor, float lr, float momentum,
                            float mu) {
        this.spec = spec;
        this.batch = batch;
        this.lr = lr;
        this.momentum = momentum;
        this.mu = mu;
        noGrad();
        this.params = new ArrayList<>();
        if (spec.isTorchScript()) {
            // the builder's file with the start state's tensors, loaded as a PtSymbolBlock whose parameters the trainer trains
            checkTensors(start, spec.layout().names(), spec.layout().shapes());
            this.script = io.fedmarket.worker.model.TorchScriptModel.load(spec.layout(), start);
            this.model = script.model();
            this.manager = model.getNDManager();
            this.stateIndex = new int[script.parameters().size()];
            int j = 0;
            for (Pair<Integer, Pair<String, Parameter>> p : script.parameters()) {
                params.add(p.getValue());
                stateIndex[j++] = p.getKey();
            }
        } else {
            this.script = null;
            this.model = Model.newInstance("fedmarket-" + spec.kind().name().toLowerCase(), "PyTorch");
            this.manager = model.getNDManager();
            SequentialBlock block = spec.newBlock();
            model.setBlock(block);
            // Order matters (STACK-NOTES): initialise, set values, then build and initialise the trainer;
            // values loaded after trainer.initialize would silently stop training.
            block.initialize(manager, DataType.FLOAT32, spec.inputShape(batch));
            for (Pair<String, Parameter> p : block.getParameters()) {
                params.add(p);
            }
            checkLayout(start);
            for (int i = 0; i < params.size(); i++) {
                params.get(i).getValue().getArray().set(FloatBuffer.wrap(start.params()[i]));
            }
            this.stateIndex = new int[params.size()];
            for (int i = 0; i < stateIndex.length; i++) {
                stateIndex[i] = i;
            }
        }
        Map<String, String> nameOfId = new HashMap<>();
        for (Pair<String, Parameter> p : params) {
            nameOfId.put(p.getValue().getId(), p.getKey());
        }
        this.optimizer = new FedSgd(lr, momentum, mu, nameOfId);
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).getKey();
            NDArray w = params.get(i).getValue().getArray();
            NDArray v = FedSgd.zerosLike(manager, w);
            if (start.velocity() != null) {
                v.set(FloatBuffer.wrap(start.velocity()[stateIndex[i]]));
            }
            optimizer.setVelocity(name, v);
            if (mu > 0) {
                NDArray a = manager.create(anchor.params()[stateIndex[i]], w.getShape());
                optimizer.setAnchor(name, a);
            }
        }
        DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(optimizer);
        this.trainer = model.newTrainer(cfg);
        trainer.initialize(spec.inputShape(batch));
        this.xBuf = new float[batch * spec.inputSize()];
        this.yBuf = new float[batch];
        this.step = start.step();
    }

    public static TrainingSession open(ModelSpec spec, int batch, ModelState start, ModelState anchor, double lr,
                                       double momentum, double mu) {
        return new TrainingSession(spec, batch, start, anchor, (float) lr, (float) momentum, (float) mu);
    }

    /**
     * The session's model, data buffers and trainer kept warm, with a new state: the parameters (batch-norm statistics
     * included), momentum buffers (zero when {@code start} has none), the FedProx anchor and the step counter all become
     * {@code start}'s, written in place into the tensors the trainer already holds. Nothing else carries over from what the
     * session ran before (gradients are cleared after every step), so what it then trains is bit for bit what a session
     * {@link #open opened} from {@code start} trains ({@code TrainingSessionTest}).
     */
    public TrainingSession reset(ModelState start, ModelState anchor) {
        noGrad();
        checkLayout(start);
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).getKey();
            NDArray w = params.get(i).getValue().getArray();
            w.set(FloatBuffer.wrap(start.params()[i]));
            NDArray v = optimizer.velocity(name);
            v.set(FloatBuffer.wrap(start.velocity() != null ? start.velocity()[i] : new float[start.params()[i].length]));
            if (mu > 0) {
                optimizer.anchor(name).set(FloatBuffer.wrap(anchor.params()[i]));
            }
        }
        this.step = start.step();
        return this;
    }

    /** Whether {@link #reset} can reuse this session at all (a TorchScript one cannot: see {@link #fits}). */
    public boolean reusable() {
        return script == null;
    }

    /** Whether {@link #reset} can reuse this session for a task of {@code spec} with these hyper-parameters (never a TorchScript one). */
    public boolean fits(ModelSpec spec, int batch, double lr, double momentum, double mu) {
        // a TorchScript module keeps its buffers (batch-norm running statistics) inside the loaded module, which reset does
        // not write: such a session is opened afresh from each start state
        return script == null && this.spec.text().equals(spec.text()) && this.batch == batch && this.lr == (float) lr && this.momentum == (float) momentum
                && this.mu == (float) mu;
    }

    /**
     * The starting model of round 0: our own seeded uniform(±1/√fan_in) weights, zero biases. Computed in plain
     * Java by {@link ModelLayouts#initialState} (so the marketplace can publish it without DJL); the layout is
     * the block's own ({@code ModelLayoutsTest}).
     */
    public static ModelState initialState(ModelSpec spec, long seed) {
        return ModelLayouts.initialState(spec.text(), seed);
    }

    private void checkTensors(ModelState s, List<String> names, List<long[]> shapes) {
        if (!s.names().equals(names)) {
            throw new IllegalArgumentException("checkpoint tensors " + s.names() + " are not model " + spec.text() + "'s " + names
                    + ": the checkpoint is for another model");
        }
        for (int i = 0; i < names.size(); i++) {
            if (s.params()[i].length != java.util.Arrays.stream(shapes.get(i)).reduce(1, Math::multiplyExact)) {
                throw new IllegalArgumentException("checkpoint tensor " + names.get(i) + " has " + s.params()[i].length + " values, model "
                        + spec.text() + " expects shape " + java.util.Arrays.toString(shapes.get(i)));
            }
        }
    }

    private void checkLayout(ModelState s) {
        if (s.names().size() != params.size()) {
            throw new IllegalArgumentException("checkpoint has " + s.names().size() + " parameter tensors, model " + spec.text()
                    + " has " + params.size() + ": the checkpoint is for another model spec");
        }
        for (int i = 0; i < params.size(); i++) {
            long expected = params.get(i).getValue().getArray().getShape().size();
            if (s.params()[i].length != expected) {
                throw new IllegalArgumentException("checkpoint tensor " + s.names().get(i) + " has " + s.params()[i].length
                        + " values, model " + spec.text() + " expects " + expected + " for " + params.get(i).getKey());
            }
        }
    }

    /**
     * PyTorch's grad mode is per thread and on by default; DJL turns it off only on the thread that
     * loaded the engine. Outside the gradient collector it must be off, or the optimiser's in-place
     * updates of the weights fail ("a leaf Variable that requires grad is being used in an in-place
     * operation") on any other thread, e.g. a worker's task thread.
     */
    private static void noGrad() {
        ai.djl.engine.Engine.getEngine("PyTorch"); // loads the natives first in a process that has not used the engine yet (JniUtils needs them)
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
    }

    public int currentStep() {
        return step;
    }

    /** One SGD step on the given samples; returns the batch loss. */
    public float step(ImageData data, int[] samples) {
        if (samples.length != batch) {
            throw new IllegalArgumentException("batch of " + samples.length + " samples, session built for " + batch);
        }
        noGrad();
        checkData(data);
        int p = data.pixelsPerImage();
        for (int i = 0; i < batch; i++) {
            data.copyScaled(samples[i], xBuf, i * p);
            yBuf[i] = label(data, samples[i]);
        }
        float loss;
        try (NDManager sub = manager.newSubManager()) {
            NDArray x = sub.create(FloatBuffer.wrap(xBuf), spec.inputShape(batch));
            NDArray y = sub.create(FloatBuffer.wrap(yBuf), new Shape(batch));
            synchronized (GRADIENT_COLLECTION) {
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDList pred = trainer.forward(new NDList(x));
                    NDArray l = trainer.getLoss().evaluate(new NDList(y), pred);
                    gc.backward(l);
                    loss = l.getFloat();
                }
            }
            if (script != null) {
                // a PtSymbolBlock runs its module without asking the trainer's parameter store for its parameters, so
                // trainer.step() would find none to update: the optimiser is applied to each of them here, in layout order
                for (Pair<String, Parameter> param : params) {
                    NDArray w = param.getValue().getArray();
                    optimizer.update(param.getValue().getId(), w, w.getGradient());
                }
            } else {
                trainer.step();
            }
        }
        // PyTorch accumulates into .grad and DJL's step hands the optimiser a copy, so nothing else
        // clears them: without this every step would add all earlier gradients again, and a segment
        // resumed from a checkpoint (fresh, zero gradients) would not reproduce the original run
        for (Pair<String, Parameter> param : params) {
            if (!param.getValue().requiresGradient()) {
                continue; // a batch norm's running statistics: changed by the forward pass, no gradient
            }
            try (NDArray g = param.getValue().getArray().getGradient()) {
                g.subi(g);
            }
        }
        step++;
        return loss;
    }

    /** Parameters (and momentum buffers) now, as a checkpoint after {@link #currentStep()} steps. */
    public ModelState snapshot(boolean withVelocity) {
        if (script != null) {
            // parameters from the engine, buffers (changed by the forward pass) read back from the module; buffers have no momentum
            float[][] values = script.values();
            float[][] vel = null;
            if (withVelocity) {
                vel = new float[values.length][];
                for (int i = 0; i < values.length; i++) {
                    vel[i] = new float[values[i].length];
                }
                for (int i = 0; i < params.size(); i++) {
                    vel[stateIndex[i]] = optimizer.velocity(params.get(i).getKey()).toFloatArray();
                }
            }
            List<long[]> shapes = new ArrayList<>();
            for (long[] sh : spec.layout().shapes()) {
                shapes.add(sh.clone());
            }
            return new ModelState(spec.layout().names(), shapes, values, vel, step);
        }
        List<String> names = new ArrayList<>(params.size());
        List<long[]> shapes = new ArrayList<>(params.size());
        float[][] values = new float[params.size()][];
        float[][] vel = withVelocity ? new float[params.size()][] : null;
        for (int i = 0; i < params.size(); i++) {
            NDArray w = params.get(i).getValue().getArray();
            names.add(params.get(i).getKey());
            shapes.add(w.getShape().getShape());
            values[i] = w.toFloatArray();
            if (withVelocity) {
                vel[i] = optimizer.velocity(params.get(i).getKey()).toFloatArray();
            }
        }
        return new ModelState(names, shapes, values, vel, step);
    }

    /** The data must be the model's input (values per sample); its labels are checked as they are used. */
    private void checkData(ImageData data) {
        if (data.pixelsPerImage() != spec.inputSize()) {
            throw new IllegalArgumentException("data set " + data.name() + " has " + data.pixelsPerImage() + " values per sample, model "
                    + spec.text() + " takes " + spec.inputSize() + " (input " + spec.layout().inputText() + ")");
        }
    }

    private int label(ImageData data, int sample) {
        int y = data.labels()[sample];
        if (y < 0 || y >= spec.classes()) {
            throw new IllegalArgumentException("data set " + data.name() + " has label " + y + " at sample " + sample + ", model "
                    + spec.text() + " has " + spec.classes() + " classes (0.." + (spec.classes() - 1) + ")");
        }
        return y;
    }

    /** Accuracy of the current parameters on {@code data} (evaluation, no gradients). */
    public double accuracy(ImageData data, int evalBatch) {
        noGrad();
        checkData(data);
        int n = data.size();
        int p = data.pixelsPerImage();
        int correct = 0;
        float[] xb = new float[evalBatch * p];
        for (int from = 0; from < n; from += evalBatch) {
            int b = Math.min(evalBatch, n - from);
            for (int i = 0; i < b; i++) {
                data.copyScaled(from + i, xb, i * p);
            }
            try (NDManager sub = manager.newSubManager()) {
                NDArray x = sub.create(FloatBuffer.wrap(xb, 0, b * p), spec.inputShape(b));
                NDArray out = trainer.evaluate(new NDList(x)).singletonOrThrow();
                long[] pred = out.argMax(1).toLongArray();
                for (int i = 0; i < b; i++) {
                    if (pred[i] == data.labels()[from + i]) {
                        correct++;
                    }
                }
            }
        }
        return correct / (double) n;
    }

    @Override
    public void close() {
        trainer.close();
        if (script != null) {
            script.close();
        } else {
            model.close();
        }
    }
}
