package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LoadMonitorTest {
  private static final long S = 1_000_000_000L;

  @Test
  void weightedSmoothedScoreAdvancesOncePerWindow() {
    EngineCore.LoadMonitor m = new EngineCore.LoadMonitor();
    assertEquals(0, m.update(0, 0, 1, 1)[1], 1e-9, "no window yet");
    double[] a = m.update(S, S, 1, 1); // device busy the whole second, memory and queue full
    assertEquals(1.0, a[0], 1e-9);
    assertEquals(0.7, a[1], 1e-9, "0.7 × 1.0 + 0.3 × 0");
    double[] again = m.update(S + S / 10, S, 0, 0); // a second poller inside the window
    assertEquals(0.7, again[1], 1e-9, "does not advance the smoothing");
    double[] b = m.update(2 * S, S + S / 2, 0, 0); // half busy, empty memory and queue
    assertEquals(0.5, b[0], 1e-9);
    assertEquals(0.7 * (0.4 * 0.5) + 0.3 * 0.7, b[1], 1e-9);
  }
}
