package io.fedmarket.cli;

import io.fedmarket.cli.demo.DemoRunner;
import io.fedmarket.cli.report.DemoRun;
import io.fedmarket.cli.report.HtmlReport;
import io.fedmarket.cli.report.TerminalSummary;
import io.fedmarket.config.ProjectPaths;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** ./mkt demo: the main job, on a local stack of its own that it stops at the end. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run a whole marketplace job end to end on the local stack, with faults, and report the result.")
final class DemoCommand implements Runnable {

    @Option(names = "--workers", defaultValue = "5", description = "GPU/data providers (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--rounds", defaultValue = "10", description = "federated rounds (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--cheaters", defaultValue = "2", description = "workers that cheat (default ${DEFAULT-VALUE})")
    int cheaters;

    @Option(names = "--seed", defaultValue = "7", description = "seed of the run (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--no-faults", description = "no cheaters, no interruptions")
    boolean noFaults;

    @Option(names = "--steps", defaultValue = "60", description = "local SGD steps per task (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--out", description = "run folder (default .mkt/demo/<time>)")
    Path out;

    @Option(names = "--model", defaultValue = "mlp", description = "the builder's model, a catalogue spec: mlp (default), mlp:H1,H2, cnn or "
            + "resnet:D (DJL model zoo ResNetV1, e.g. resnet:20; batch 16, lr 0.05, momentum 0.9, target " + "60%), or the builder's own "
            + "TorchScript file, uploaded through the API: torchscript:small (Conv2d+BatchNorm2d+Linear, target 55%), torchscript:resnet20 "
            + "(both written by infra/models/make_torchscript.py with python3-torch) or torchscript:PATH")
    String model;

    @Option(names = "--private-data", description = "every provider keeps its shard: exported to its own folder as PNG files, committed "
            + "(mkt data commit), offered as private data and trained there by its own worker only; a drawn segment's samples are revealed, "
            + "sealed, to the drawn re-executor only, and the privacy cost is printed")
    boolean privateData;

    static final double TARGET_ACCURACY = 0.70;
    /** ResNet-20 in this demo's budget (10 rounds of 60 steps of batch 16 per shard) on non-IID Fashion-MNIST. */
    static final double RESNET_TARGET_ACCURACY = 0.60;
    /** The small TorchScript net (Conv2d 8 + BatchNorm2d + Linear, 13,626 parameters) in the same budget, batch 32. */
    static final double TORCHSCRIPT_TARGET_ACCURACY = 0.55;

    @Override
    public void run() {
        if (workers < 2 || workers > io.fedmarket.cli.demo.DemoRunner.MAX_WORKERS || rounds < 1 || cheaters < 0 || cheaters >= workers - 1 || steps < 20 || steps % 20 != 0) {
            throw new IllegalArgumentException("need 2 ≤ --workers ≤ " + io.fedmarket.cli.demo.DemoRunner.MAX_WORKERS + ", --rounds ≥ 1, 0 ≤ --cheaters < --workers - 1 (two honest workers at least)"
                    + " and --steps a multiple of 20 (got workers=" + workers + ", rounds=" + rounds + ", cheaters=" + cheaters + ", steps=" + steps + ")");
        }
        Path dir = out != null ? out : ProjectPaths.home().resolve("demo").resolve(java.time.LocalDateTime.now().withNano(0).toString().replace(':', '-'));
        // the builder's own TorchScript file: written here when it is one of the project's (python3-torch), read when a path
        model = io.fedmarket.fl.model.TorchScriptModels.resolveCommandLine(model, ProjectPaths.home().resolve("models"));
        io.fedmarket.fl.model.ModelLayouts.Layout layout = io.fedmarket.fl.model.ModelLayouts.layout(model);
        if (layout.inputSize() != 28 * 28 || layout.classes() != 10) {
            throw new IllegalArgumentException("--model " + model + ": the demo trains on Fashion-MNIST (1x28x28, 10 classes); leave out ;input= and ;classes=");
        }
        DemoRunner.Options base = new DemoRunner.Options(workers, rounds, cheaters, seed, !noFaults, steps, dir.toAbsolutePath(), TARGET_ACCURACY);
        DemoRunner.Options opts = torchScriptOptions(layout, workers, rounds, cheaters, seed, !noFaults, steps, dir.toAbsolutePath(), privateData);
        if (opts == null) {
            opts = layout.architecture() == io.fedmarket.fl.model.ModelLayouts.Architecture.RESNET
                ? new DemoRunner.Options(workers, rounds, cheaters, seed, !noFaults, steps, dir.toAbsolutePath(), RESNET_TARGET_ACCURACY, layout.spec(),
                0, 16, 0.05, 0.9, false, base.budgetTokens(), base.fakedFraction(), base.mix(), privateData)
                : new DemoRunner.Options(workers, rounds, cheaters, seed, !noFaults, steps, dir.toAbsolutePath(), TARGET_ACCURACY, layout.spec(),
                base.epochs(), base.batch(), base.lr(), base.momentum(), base.baseline(), base.budgetTokens(), base.fakedFraction(), base.mix(), privateData);
        }
        DemoRun run;
        try {
            run = new DemoRunner(opts, System.out::println).run();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        TerminalSummary.print(run, System.out);
        Path report = HtmlReport.write(run, dir.resolve("report.html"));
        try {
            io.fedmarket.cli.report.RunRecords.write(run, dir.resolve("run.json"));
        } catch (RuntimeException e) {
            System.out.println("could not write run.json: " + e.getMessage());
        }
        System.out.println();
        System.out.println("report: " + report.toAbsolutePath() + "  (opens offline in any browser)");
        if (run.finalAccuracy() < run.targetAccuracy()) {
            throw new IllegalStateException(String.format(java.util.Locale.ROOT, "final accuracy %.1f%% is below the target %.1f%%",
                    run.finalAccuracy() * 100, run.targetAccuracy() * 100));
        }
    }

    /**
     * The demo's terms for an uploaded TorchScript model (null for a catalogue one): batch 32 (16 above 100k parameters, like the
     * catalogue ResNet), lr 0.05, momentum 0.9, no in-process baseline; target 55% for a small net, 60% for a ResNet-sized one.
     */
    static DemoRunner.Options torchScriptOptions(io.fedmarket.fl.model.ModelLayouts.Layout layout, int workers, int rounds, int cheaters, long seed,
                                                 boolean faults, int steps, Path dir, boolean privateData) {
        if (layout.architecture() != io.fedmarket.fl.model.ModelLayouts.Architecture.TORCHSCRIPT) {
            return null;
        }
        boolean large = layout.parameterCount() > 100_000;
        DemoRunner.Options base = new DemoRunner.Options(workers, rounds, cheaters, seed, faults, steps, dir, TARGET_ACCURACY);
        return new DemoRunner.Options(workers, rounds, cheaters, seed, faults, steps, dir, large ? RESNET_TARGET_ACCURACY : TORCHSCRIPT_TARGET_ACCURACY,
                layout.spec(), 0, large ? 16 : 32, 0.05, 0.9, false, base.budgetTokens(), base.fakedFraction(), base.mix(), privateData);
    }
}
