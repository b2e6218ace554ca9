package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.foley4j.cli.FoleyCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs {@code foley ARGS} through the CLI, which finds foley-bench's commands on the class path. */
final class BenchCli {
  private BenchCli() {}

  /** What the command printed on standard output, once it has exited with 0 (else the test fails, with that output). */
  static String run(String... args) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream old = System.out;
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    int rc;
    try {
      rc = FoleyCli.run(args);
    } finally {
      System.setOut(old);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    assertEquals(0, rc, out);
    return out;
  }
}
