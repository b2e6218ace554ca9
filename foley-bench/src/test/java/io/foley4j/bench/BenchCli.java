package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.foley4j.cli.CliOutput;

/** Runs {@code foley ARGS} through the CLI, which finds foley-bench's commands on the class path. */
final class BenchCli {
  private BenchCli() {}

  /** What the command printed on standard output, once it has exited with 0 (else the test fails, with its output). */
  static String run(String... args) {
    CliOutput r = CliOutput.of(args);
    assertEquals(0, r.rc(), r.out() + r.err());
    return r.out();
  }
}
