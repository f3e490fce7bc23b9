package io.fedmarket.worker.model;

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
 * A task's model spec, parsed: {@code mlp} (784-128-10), {@code mlp:H1,H2,…} or {@code cnn}
 * (the NIID-Bench CNN: conv5×5 6 → ReLU → max-pool 2 → conv5×5 16 → ReLU → max-pool 2 → fc120 →
 * fc84 → fc10). Input is one 28×28 grey image. The parameter names and shapes of {@link #newBlock()}
 * are also known without DJL: {@link ModelLayouts}.
 */
public record ModelSpec(String text, Kind kind, List<Integer> hidden) {
    public enum Kind { MLP, CNN }

    /** Parses a spec with the shared grammar ({@link ModelLayouts#layout}): same errors as the plain-Java side. */
    public static ModelSpec parse(String spec) {
        ModelLayouts.Layout l = ModelLayouts.layout(spec);
        return new ModelSpec(l.spec(), Kind.valueOf(l.architecture().name()), l.hidden());
    }

    /** Shape of a batch of {@code b} images. */
    public Shape inputShape(int b) {
        return kind == Kind.CNN ? new Shape(b, 1, 28, 28) : new Shape(b, 28 * 28);
    }

    public SequentialBlock newBlock() {
        SequentialBlock net = new SequentialBlock();
        if (kind == Kind.MLP) {
            for (int w : hidden) {
                net.add(Linear.builder().setUnits(w).build()).add(Activation::relu);
            }
            net.add(Linear.builder().setUnits(10).build());
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
                .add(Linear.builder().setUnits(10).build());
        return net;
    }
}
