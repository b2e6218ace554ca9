package io.foley4j.bench;

import io.foley4j.cli.CliOutput;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code foley bench devices}: one long job on fake devices at each number of segments in flight. */
class DevicesBenchTest {
  @Test
  void printsOneRowPerConfigurationWithTheSpreadOfSegments() {
    CliOutput r = CliOutput.of("bench", "devices", "--seconds", "16", "--steps", "2", "--devices", "1,2",
        "--in-flight", "1,2", "--denoiser-width", "64", "--denoiser-depth", "1");
    assertEquals(0, r.rc(), r.out() + r.err());
    String[] out = {r.out()};
    List<String> rows = out[0].lines().filter(l -> l.matches("^[12] +[12] .*")).toList();
    assertEquals(4, rows.size(), out[0]);
    assertTrue(rows.get(0).contains("1.00x") && rows.get(0).contains("fake:0=3"), rows.get(0)); // 16 s: 3 segments
    assertTrue(rows.get(3).matches(".*fake:0=\\d fake:1=\\d.*"), rows.get(3));
    String[] two = rows.get(3).split(".*fake:0=|\\s+fake:1=|\\s+batches.*");
    assertEquals(3, Integer.parseInt(two[1]) + Integer.parseInt(two[2]), "the three segments spread over two devices: "
        + rows.get(3));
  }
}
