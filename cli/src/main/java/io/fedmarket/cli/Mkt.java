package io.fedmarket.cli;

import io.fedmarket.cli.user.DataCommands;
import io.fedmarket.cli.user.UserCommands;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The user's command. The ./mkt launcher handles test/up/down/status itself and passes the rest here. */
@Command(name = "mkt", mixinStandardHelpOptions = true, version = "fedmarket 0.1.0",
        description = "A proof-of-useful-work marketplace for federated learning.",
        subcommands = {DemoCommand.class, BenchCommand.class, UserCommands.Login.class, UserCommands.Intents.class,
                UserCommands.Providers.class, DataCommands.class, io.fedmarket.cli.user.ModelCommands.class, UserCommands.Job.class, UserCommands.Escrow.class, UserCommands.Bond.class, UserCommands.Unbond.class,
                UserCommands.Claim.class, UserCommands.Worker.class})
public final class Mkt implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine root = new CommandLine(new Mkt());
        // a benchmark's own options (--steps N, --txs N, --quick …) go to it as they are, in order
        root.getSubcommands().get("bench").setUnmatchedOptionsArePositionalParams(true);
        return root.setExecutionExceptionHandler((ex, cl, parsed) -> {
            cl.getErr().println("mkt " + cl.getCommandName() + ": " + ex.getMessage());
            return 1;
        });
    }
}
