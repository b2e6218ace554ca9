package io.foley4j.cli;

import io.foley4j.FoleyException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code foley} command line: demo, generate, bundle tools, GPU probe, serve, and the benchmarks
 * when foley-bench is on the class path ({@code foley-bench/target/foley-bench.jar} is this command
 * with them; {@code foley.jar} alone answers {@code bench} by pointing there).
 *
 * <p>Exit codes: 0 success; 2 bad input (a usage error, or a {@link FoleyException} whose code
 * blames the input: see {@link #exitCode}), printed as one line {@code foley: <message>} on
 * stderr (also when a GPU backend was asked for where it cannot run:
 * {@link io.foley4j.gpu.GpuUnavailableException}, fixed by the machine's setup or {@code --fallback cpu}); 1 any other failure (I/O, backend, internal), also one line, plus the stack trace for
 * {@code INTERNAL} errors (bugs) and for exceptions that are not {@code FoleyException}s.
 */
@Command(name = "foley", mixinStandardHelpOptions = true, version = "foley4j 0.1.0",
    description = "Generate synchronized Foley audio for videos with foley4j.",
    subcommands = {DemoCommand.class, GenerateCommand.class, BundleCommand.class, GpuCommand.class,
        NoiseCommand.class, ServeCommand.class, CommandLine.HelpCommand.class})
public final class FoleyCli implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (for tests). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new FoleyCli());
    cl.addSubcommand("bench", bench());
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

  /** The name of foley-bench's {@code bench} command, looked up on the class path. */
  static final String BENCH_COMMAND = "io.foley4j.bench.BenchCommand";

  /** foley-bench's {@code bench} command when that module is on the class path, else {@link NoBench}. */
  private static CommandLine bench() {
    try {
      return new CommandLine(Class.forName(BENCH_COMMAND, true, FoleyCli.class.getClassLoader()));
    } catch (ClassNotFoundException e) {
      return new CommandLine(new NoBench());
    }
  }

  /** {@code foley bench} without foley-bench: says where the benchmarks are. */
  @Command(name = "bench", description = "Benchmarks: in foley-bench (java -jar foley-bench/target/foley-bench.jar bench ...).")
  static final class NoBench implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Unmatched
    java.util.List<String> args;

    @Override
    public Integer call() {
      System.err.println("foley: the bench commands are in the foley-bench module, not in this jar: build it (mvn -q"
          + " -DskipTests install) and run java -jar foley-bench/target/foley-bench.jar bench " + String.join(" ",
              args == null ? java.util.List.of("--help") : args));
      return 2;
    }
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
