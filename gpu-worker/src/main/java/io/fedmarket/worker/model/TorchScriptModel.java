package io.fedmarket.worker.model;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.util.Pair;

import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.model.TorchScriptArchive;
import io.fedmarket.fl.model.TorchScriptModels;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * An uploaded TorchScript model in this process: the file ({@link TorchScriptModels}, hash checked) written back with the state a
 * task starts from ({@link TorchScriptArchive#withState}: parameters and buffers), loaded by DJL's PyTorch engine as a
 * {@link PtSymbolBlock} whose parameters {@code Trainer} trains ({@code trainParam}). Only the TorchScript graph runs: libtorch
 * interprets the archive's code, no Python exists here. Loading has a time limit ({@code fedmarket.torchscript.loadSeconds},
 * default 60 s); the model's buffers (a batch norm's running statistics, changed by the forward pass) are read back by writing
 * the module out ({@link #buffers()}), so they are hashed, checkpointed and re-executed with the weights.
 */
public final class TorchScriptModel implements AutoCloseable {
    private static final long LOAD_SECONDS = Long.getLong("fedmarket.torchscript.loadSeconds", 60);

    private final ModelLayouts.Layout layout;
    private final TorchScriptArchive archive;
    private final Model model;
    private final PtSymbolBlock block;
    private final Path dir;
    /** For each parameter DJL lists, in layout order: (layout index, parameter). */
    private final List<Pair<Integer, Pair<String, Parameter>>> params;
    private final List<Integer> bufferIndices;

    private TorchScriptModel(ModelLayouts.Layout layout, TorchScriptArchive archive, Model model, Path dir) {
        this.layout = layout;
        this.archive = archive;
        this.model = model;
        this.dir = dir;
        if (!(model.getBlock() instanceof PtSymbolBlock b)) {
            throw new IllegalStateException("model " + layout.spec() + " did not load as a TorchScript module");
        }
        this.block = b;
        // the engine loads a module in eval mode but a PtSymbolBlock starts out believing it is training, so its first training
        // forward would not switch: switch now (a forward with training=false switches to eval and back as usual)
        ai.djl.pytorch.jni.JniUtils.enableTrainingMode(block);
        Map<String, Pair<String, Parameter>> byName = new HashMap<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            byName.put(p.getKey(), p);
        }
        this.params = new ArrayList<>();
        this.bufferIndices = new ArrayList<>();
        List<TorchScriptArchive.Tensor> tensors = archive.tensors();
        for (int i = 0; i < tensors.size(); i++) {
            TorchScriptArchive.Tensor t = tensors.get(i);
            if (t.buffer()) {
                bufferIndices.add(i);
                continue;
            }
            Pair<String, Parameter> p = byName.remove(t.name());
            if (p == null) {
                throw new IllegalStateException("model " + layout.spec() + ": the engine lists no parameter " + t.name() + " (it has "
                        + byName.keySet() + ")");
            }
            params.add(new Pair<>(i, p));
        }
        if (!byName.isEmpty()) {
            throw new IllegalStateException("model " + layout.spec() + ": the engine has parameters the archive does not list: " + byName.keySet());
        }
    }

    /** Loads the layout's file with {@code state}'s tensors (names and sizes the layout's), within the load time limit. */
    public static TorchScriptModel load(ModelLayouts.Layout layout, ModelState state) {
        if (layout.architecture() != ModelLayouts.Architecture.TORCHSCRIPT) {
            throw new IllegalArgumentException(layout.spec() + " is not a TorchScript model");
        }
        TorchScriptArchive archive = TorchScriptModels.archive(ModelLayouts.modelFile(layout.spec()).orElseThrow());
        byte[] file = archive.withState(new ModelState(state.names(), state.shapes(), state.params(), null, state.step()));
        Path dir;
        try {
            dir = Files.createTempDirectory("fedmarket-torchscript-");
            Files.write(dir.resolve("model.pt"), file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        FutureTask<Model> loading = new FutureTask<>(() -> {
            Model m = Model.newInstance("model", "PyTorch");
            m.load(dir, "model", Map.of("trainParam", "true"));
            return m;
        });
        Thread t = Thread.ofPlatform().daemon().name("torchscript-load").start(loading);
        try {
            Model m = loading.get(LOAD_SECONDS, TimeUnit.SECONDS);
            return new TorchScriptModel(layout, archive, m, dir);
        } catch (TimeoutException e) {
            t.interrupt();
            throw new IllegalStateException("model " + layout.spec() + " did not load within " + LOAD_SECONDS + " s", e);
        } catch (ExecutionException e) {
            deleteDir(dir);
            throw new IllegalArgumentException("model " + layout.spec() + " does not load as TorchScript: " + e.getCause().getMessage(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading " + layout.spec(), e);
        }
    }

    public Model model() {
        return model;
    }

    public PtSymbolBlock block() {
        return block;
    }

    /** The engine's parameters with their index in the layout (buffers excluded), in layout order. */
    public List<Pair<Integer, Pair<String, Parameter>>> parameters() {
        return params;
    }

    /** Layout indices of the buffers. */
    public List<Integer> bufferIndices() {
        return bufferIndices;
    }

    /** The buffers' values now, in {@link #bufferIndices()} order: the module written out and read back. */
    public float[][] buffers() {
        float[][] out = new float[bufferIndices.size()][];
        if (bufferIndices.isEmpty()) {
            return out;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(archive.size() + 4096);
        ai.djl.pytorch.jni.JniUtils.writeModule(block, bytes, false);
        TorchScriptArchive now = TorchScriptArchive.read(bytes.toByteArray());
        Map<String, Integer> at = new HashMap<>();
        for (int i = 0; i < now.tensors().size(); i++) {
            at.put(now.tensors().get(i).name(), i);
        }
        ModelState s = now.state();
        for (int j = 0; j < bufferIndices.size(); j++) {
            String name = layout.names().get(bufferIndices.get(j));
            Integer i = at.get(name);
            if (i == null) {
                throw new IllegalStateException("the module written out has no buffer " + name);
            }
            out[j] = s.params()[i];
        }
        return out;
    }

    /** The whole state now (parameters from the engine, buffers read back), no momentum. */
    public float[][] values() {
        float[][] v = new float[layout.tensorCount()][];
        for (Pair<Integer, Pair<String, Parameter>> p : params) {
            NDArray a = p.getValue().getValue().getArray();
            v[p.getKey()] = a.toFloatArray();
        }
        float[][] b = buffers();
        for (int j = 0; j < bufferIndices.size(); j++) {
            v[bufferIndices.get(j)] = b[j];
        }
        return v;
    }

    @Override
    public void close() {
        model.close();
        deleteDir(dir);
    }

    private static void deleteDir(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind is harmless
        }
    }
}
