package io.foley4j.examples;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code foley} command line: demo, generate, bundle tools and benchmarks. */
@Command(name = "foley", mixinStandardHelpOptions = true, version = "foley4j 0.1.0",
    description = "Generate synchronized Foley audio for videos with foley4j.",
    subcommands = {DemoCommand.class, GenerateCommand.class, BundleCommand.class, BenchCommand.class,
        CommandLine.HelpCommand.class})
public final class FoleyCli implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (for tests). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new FoleyCli());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof io.foley4j.FoleyException f) {
        cmd.getErr().println("error [" + f.code() + "]: " + f.getMessage());
        return 2;
      }
      throw e;
    });
    return cl.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
