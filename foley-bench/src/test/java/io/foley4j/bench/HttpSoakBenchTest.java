package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code foley bench http-soak} small: its columns, every request done, files back to 0 after retention. */
class HttpSoakBenchTest {

  @Test
  void httpSoakPrintsColumnsAndFilesExpire() {
    // loose growth bounds: 60 requests are too few for meaningful slopes; files and failures are checked exactly
    String out = BenchCli.run("bench", "http-soak", "--requests", "60", "--concurrency", "2", "--every", "20",
        "--steps", "1", "--video-seconds", "0.3", "--retention-ms", "600", "--result-cache-mb", "1", "--max-rss-mb", "1000", "--max-heap-mb", "1000",
        "--max-threads", "100", "--max-fds", "100", "--max-files", "1000");
    System.out.print(out);
    List<String> lines = out.lines().toList();
    int header = lines.indexOf(lines.stream().filter(l -> l.trim().startsWith("requests")).findFirst().orElseThrow());
    for (String c : HttpSoakBench.COLUMNS) {
      assertTrue(lines.get(header).contains(c), lines.get(header));
    }
    boolean expiredDuring = false;
    for (int i = 1; i <= 4; i++) {
      String[] cells = lines.get(header + i).trim().split("\\s+");
      assertEquals(HttpSoakBench.COLUMNS.length, cells.length, lines.get(header + i));
      assertEquals((i - 1) * 20, Integer.parseInt(cells[0]));
      assertTrue(Double.parseDouble(cells[1]) > 0, "rss: " + lines.get(header + i));
      assertTrue(Double.parseDouble(cells[2]) > 0, "heap: " + lines.get(header + i));
      assertTrue(Double.parseDouble(cells[3]) > 0, "threads: " + lines.get(header + i));
      assertTrue(Double.parseDouble(cells[4]) > 0, "fds: " + lines.get(header + i));
      // the result cache fills up to its bound (1 MB: about ten 0.3 s results) and no further
      assertEquals(0, Integer.parseInt(cells[6]), "no file outlives its retention: " + lines.get(header + i));
      double cacheMb = Double.parseDouble(cells[7]);
      assertTrue(cacheMb <= 1.0 && (i == 1 || cacheMb > 0.5), "cache: " + lines.get(header + i));
      // 20 jobs leave at least 40 files (upload and result each) unless retention already removed some
      if (i > 1 && Double.parseDouble(cells[5]) < 40) {
        expiredDuring = true;
      }
    }
    assertTrue(out.contains("60 requests in") && out.contains(", 0 failed"), out);
    assertTrue(out.contains("files after retention: 0"), out);
    assertTrue(expiredDuring, "retention expired nothing during the soak:\n" + out);
    for (int c = 1; c < HttpSoakBench.COLUMNS.length; c++) {
      String col = HttpSoakBench.COLUMNS[c];
      assertTrue(lines.stream().anyMatch(l -> l.trim().startsWith(col + " ") && l.contains("bound")),
          col + " slope in:\n" + out);
    }
    assertTrue(out.contains("http-soak: OK"), out);
  }
}
