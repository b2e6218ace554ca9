package io.foley4j.bench;

import io.foley4j.cli.FoleyCli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code foley bench coldstart}: two child JVMs, the second loads the optimized graphs the first stored. */
class ColdStartBenchTest {
  @Test
  void printsBothBuildsTheirRatioAndFirstOverSteady() {
    PrintStream oldOut = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    int rc;
    try {
      rc = FoleyCli.run("bench", "coldstart", "--seconds", "1", "--steps", "1", "--requests", "1",
          "--denoiser-width", "64", "--denoiser-depth", "1");
    } finally {
      System.setOut(oldOut);
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, rc, out);
    assertTrue(out.contains("process 1: build ") && out.contains("cache hits 0/5"), out);
    assertTrue(out.contains("process 2: build ") && out.contains("cache hits 5/5"), out);
    assertTrue(out.contains("second/first"), out);
    assertTrue(out.contains("first request / steady state, second process: "), out);
  }
}
