package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code foley bench soak}, run through the CLI, which finds foley-bench's commands on the class path. */
class SoakBenchTest {

  @Test
  void soakBenchPrintsItsColumnsAndSlopes() {
    String out = BenchCli.run("bench", "soak", "--requests", "8", "--concurrency", "2", "--every", "4", "--steps", "1");
    List<String> lines = out.lines().toList();
    int header = lines.indexOf(lines.stream().filter(l -> l.trim().startsWith("requests")).findFirst().orElseThrow());
    for (String c : SoakBench.COLUMNS) {
      assertTrue(lines.get(header).contains(c), lines.get(header));
    }
    for (int i = 1; i <= 3; i++) {
      String[] cells = lines.get(header + i).trim().split("\\s+");
      assertEquals(SoakBench.COLUMNS.length, cells.length, lines.get(header + i));
      assertEquals((i - 1) * 4, Integer.parseInt(cells[0]));
      assertTrue(Double.parseDouble(cells[5]) > 0, "live threads: " + lines.get(header + i));
    }
    assertTrue(out.contains("8 requests in"), out);
    for (int c = 1; c < SoakBench.COLUMNS.length; c++) {
      String col = SoakBench.COLUMNS[c];
      assertTrue(lines.stream().anyMatch(l -> l.trim().startsWith(col) && l.trim().substring(col.length()).trim()
          .matches("[+-]\\d+\\.\\d+")), col + " slope in:\n" + out);
    }
  }
}
