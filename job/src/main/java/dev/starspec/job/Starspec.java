package dev.starspec.job;

import dev.starspec.job.cli.BenchCommand;
import dev.starspec.job.cli.Bundled;
import dev.starspec.job.cli.CompleteCommand;
import dev.starspec.job.cli.ConvertCommand;
import dev.starspec.job.cli.EvaluateCommand;
import dev.starspec.job.cli.HumanEvalCommand;
import dev.starspec.job.cli.GenerateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code starspec} command line. */
@Command(name = "starspec", mixinStandardHelpOptions = true, version = "starspec 0.1.0",
        description = "Speculative StarCoder inference on CPU with Spark: generate, convert, complete, bench, humaneval, evaluate.",
        subcommands = {GenerateCommand.class, CompleteCommand.class, ConvertCommand.class, BenchCommand.class,
            HumanEvalCommand.class, EvaluateCommand.class})
public final class Starspec implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs a command line and returns its exit code; errors print one clear line, not a stack trace. Option
     * defaults come from {@code $STARSPEC_CONF}, else {@code conf/starspec.properties} of the installation.
     */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Starspec());
        String conf = System.getenv("STARSPEC_CONF");
        java.nio.file.Path defaults = conf != null ? java.nio.file.Path.of(conf) : Bundled.home().resolve("conf/starspec.properties");
        if (java.nio.file.Files.isRegularFile(defaults)) {
            cli.setDefaultValueProvider(new CommandLine.PropertiesDefaultProvider(defaults.toFile()));
        }
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (System.getenv("STARSPEC_DEBUG") != null) {
                e.printStackTrace();
            }
            cmd.getErr().println("starspec " + cmd.getCommandName() + ": error: " + message(e));
            return 1;
        });
        return cli.execute(args);
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
