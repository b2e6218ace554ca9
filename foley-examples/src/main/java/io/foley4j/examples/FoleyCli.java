package io.foley4j.examples;

import io.foley4j.FoleyException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code foley} command line: demo, generate, bundle tools and benchmarks.
 *
 * <p>Exit codes: 0 success; 2 bad input (a usage error, or a {@link FoleyException} whose code
 * blames the input: see {@link #exitCode}), printed as one line {@code foley: <message>} on
 * stderr (also when a GPU backend was asked for where it cannot run:
 * {@link io.foley4j.gpu.GpuUnavailableException}, fixed by the machine's setup or {@code --fallback cpu}); 1 any other failure (I/O, backend, internal), also one line, plus the stack trace for
 * {@code INTERNAL} errors (bugs) and for exceptions that are not {@code FoleyException}s.
 */
@Command(name = "foley", mixinStandardHelpOptions = true, version = "foley4j 0.1.0",
    description = "Generate synchronized Foley audio for videos with foley4j.",
    subcommands = {DemoCommand.class, GenerateCommand.class, BundleCommand.class, BenchCommand.class,
        GpuCommand.class, ServeCommand.class, CommandLine.HelpCommand.class})
public final class FoleyCli implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (for tests). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new FoleyCli());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof FoleyException f) {
        cmd.getErr().println("foley: " + oneLine(f.getMessage()));
        if (f.code() == FoleyException.Code.INTERNAL) {
          f.printStackTrace(cmd.getErr());
        }
        cmd.getErr().flush();
        return f instanceof io.foley4j.gpu.GpuUnavailableException ? 2 : exitCode(f.code());
      }
      throw e;
    });
    return cl.execute(args);
  }

  /** 2 for failures caused by what the user gave (fix the input), 1 for the others. */
  static int exitCode(FoleyException.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT, UNSUPPORTED_VIDEO, CORRUPT_VIDEO, INVALID_BUNDLE -> 2;
      default -> 1;
    };
  }

  private static String oneLine(String message) {
    return message == null ? "(no message)" : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
