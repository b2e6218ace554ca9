package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code foley bench memory}: one child JVM per arena setting; peak RSS, request wall and their ratios. */
class MemoryBenchTest {
  @Test
  void printsEachSettingsPeakAndRequestAndTheirRatiosToTheFirst() {
    String out = BenchCli.run("bench", "memory", "--steps", "1", "--settings", "shrink,off");
    List<String> rows = out.lines().filter(l -> l.matches("^(shrink|keep|off) +\\d.*")).toList();
    assertEquals(2, rows.size(), out);
    double[] hwm = new double[2];
    for (int i = 0; i < 2; i++) {
      String[] f = rows.get(i).trim().split("\\s+");
      hwm[i] = Double.parseDouble(f[1]);
      double loaded = Double.parseDouble(f[2]);
      assertTrue(hwm[i] >= loaded && loaded > 0, rows.get(i)); // the peak is at least what the loaded engine held
      assertTrue(Double.parseDouble(f[3]) > 0, rows.get(i));
    }
    assertEquals("1.000", rows.get(0).trim().split("\\s+")[4], out); // the first setting against itself
    assertEquals(hwm[1] / hwm[0], Double.parseDouble(rows.get(1).trim().split("\\s+")[4]), 0.01, out);
    assertTrue(out.contains("shrink | timings: StageTimings[") && out.contains("off | timings: "), out);
  }
}
