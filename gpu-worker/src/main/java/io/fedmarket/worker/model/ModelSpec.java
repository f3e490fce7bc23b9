package io.fedmarket.worker.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;

import java.util.ArrayList;
import java.util.List;

/**
 * A task's model spec, parsed: {@code mlp} (784-128-10), {@code mlp:H1,H2,…} or {@code cnn}
 * (the NIID-Bench CNN: conv5×5 6 → ReLU → max-pool 2 → conv5×5 16 → ReLU → max-pool 2 → fc120 →
 * fc84 → fc10). Input is one 28×28 grey image.
 */
public record ModelSpec(String text, Kind kind, List<Integer> hidden) {
    public enum Kind { MLP, CNN }

    public static ModelSpec parse(String spec) {
        if (spec == null) {
            throw new IllegalArgumentException("model spec is missing: use mlp, mlp:H1,H2 or cnn");
        }
        String s = spec.trim().toLowerCase();
        if (s.equals("cnn")) {
            return new ModelSpec(s, Kind.CNN, List.of());
        }
        if (s.equals("mlp")) {
            return new ModelSpec(s, Kind.MLP, List.of(128));
        }
        if (s.startsWith("mlp:")) {
            List<Integer> h = new ArrayList<>();
            for (String part : s.substring(4).split(",")) {
                try {
                    int w = Integer.parseInt(part.trim());
                    if (w < 1 || w > 65536) {
                        throw new NumberFormatException();
                    }
                    h.add(w);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("model spec '" + spec + "': hidden widths must be integers in 1..65536, e.g. mlp:256,128");
                }
            }
            return new ModelSpec(s, Kind.MLP, List.copyOf(h));
        }
        if (s.startsWith("resnet")) {
            throw new IllegalArgumentException("model spec '" + spec + "': ResNet is not supported by this worker yet; use mlp or cnn");
        }
        throw new IllegalArgumentException("unknown model spec '" + spec + "': use mlp, mlp:H1,H2 or cnn");
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
