package io.fedmarket.worker.model;

import ai.djl.basicmodelzoo.cv.classification.ResNetV1;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;

import io.fedmarket.fl.model.ModelLayouts;

import java.util.List;

/**
 * A task's model spec, parsed with the shared grammar ({@link ModelLayouts#layout}): {@code mlp} (784-128-10),
 * {@code mlp:H1,H2,…}, {@code cnn} (the NIID-Bench CNN: conv5×5 6 → ReLU → max-pool 2 → conv5×5 16 → ReLU → max-pool 2
 * → fc120 → fc84 → fc N) or {@code resnet:D} (DJL model zoo's {@code ResNetV1}), each with an optional
 * {@code ;input=CxHxW} (or a feature count for an MLP) and {@code ;classes=N}; defaults one 28×28 grey image and 10
 * classes. The parameter names and shapes of {@link #newBlock()} are also known without DJL: {@link ModelLayouts}.
 */
public record ModelSpec(String text, Kind kind, List<Integer> hidden, ModelLayouts.Layout layout) {
    public enum Kind { MLP, CNN, RESNET, TORCHSCRIPT }

    /** Parses a spec with the shared grammar ({@link ModelLayouts#layout}): same errors as the plain-Java side. */
    public static ModelSpec parse(String spec) {
        ModelLayouts.Layout l = ModelLayouts.layout(spec);
        return new ModelSpec(l.spec(), Kind.valueOf(l.architecture().name()), l.hidden(), l);
    }

    /** Values of one input sample: features of an MLP, or channels × height × width. */
    public int inputSize() {
        return layout.inputSize();
    }

    public int classes() {
        return layout.classes();
    }

    /** Shape of a batch of {@code b} samples: {@code (b, features)} for an MLP, {@code (b, C, H, W)} otherwise. */
    public Shape inputShape(int b) {
        List<Integer> in = layout.input();
        return kind == Kind.MLP || in.size() == 1 ? new Shape(b, in.get(0)) : new Shape(b, in.get(0), in.get(1), in.get(2));
    }

    /** Whether this is an uploaded TorchScript file ({@link TorchScriptModel}), not a catalogue block. */
    public boolean isTorchScript() {
        return kind == Kind.TORCHSCRIPT;
    }

    public SequentialBlock newBlock() {
        if (kind == Kind.TORCHSCRIPT) {
            throw new IllegalStateException(text + " is a TorchScript file: load it with TorchScriptModel.load");
        }
        int classes = layout.classes();
        if (kind == Kind.RESNET) {
            List<Integer> in = layout.input();
            return ResNetV1.builder().setImageShape(new Shape(in.get(0), in.get(1), in.get(2))).setNumLayers(layout.depth())
                    .setOutSize(classes).build();
        }
        SequentialBlock net = new SequentialBlock();
        if (kind == Kind.MLP) {
            for (int w : hidden) {
                net.add(Linear.builder().setUnits(w).build()).add(Activation::relu);
            }
            net.add(Linear.builder().setUnits(classes).build());
            return net;
        }
        net.add(Conv2d.builder().setKernelShape(new Shape(5, 5)).setFilters(6).build())
                .add(Activation::relu)
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Conv2d.builder().setKernelShape(new Shape(5, 5)).setFilters(16).build())
                .add(Activation::relu)
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(120).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(84).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(classes).build());
        return net;
    }
}
