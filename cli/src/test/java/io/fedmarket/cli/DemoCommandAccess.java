package io.fedmarket.cli;

import io.fedmarket.cli.demo.DemoRunner;
import io.fedmarket.fl.model.ModelLayouts;

import java.nio.file.Path;

/** The demo command's terms for a TorchScript model, for the tests of other packages. */
public final class DemoCommandAccess {
    private DemoCommandAccess() {
    }

    public static DemoRunner.Options torchScriptOptions(ModelLayouts.Layout layout, int workers, int rounds, int cheaters, long seed, boolean faults,
                                                        int steps, Path dir) {
        return DemoCommand.torchScriptOptions(layout, workers, rounds, cheaters, seed, faults, steps, dir, false);
    }
}
