package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code foley bench coldstart}: two child JVMs, the second loads the optimized graphs the first stored. */
class ColdStartBenchTest {
  @Test
  void printsBothBuildsTheirRatioAndFirstOverSteady() {
    String out = BenchCli.run("bench", "coldstart", "--seconds", "1", "--steps", "1", "--requests", "1",
        "--denoiser-width", "64", "--denoiser-depth", "1");
    assertTrue(out.contains("process 1: build ") && out.contains("cache hits 0/5"), out);
    assertTrue(out.contains("process 2: build ") && out.contains("cache hits 5/5"), out);
    assertTrue(out.contains("second/first"), out);
    assertTrue(out.contains("first request / steady state, second process: "), out);
  }
}
