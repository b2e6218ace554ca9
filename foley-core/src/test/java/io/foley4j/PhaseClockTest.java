package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Overlapping calls of one job (segments sharing a batch, queued encoder calls) count their common time once. */
class PhaseClockTest {
  private static long denoise(PhaseClock c) {
    return c.snapshot(false).get(StageTimings.Phase.DENOISE).toNanos();
  }

  @Test
  void overlappingIntervalsCountOnce() {
    PhaseClock c = new PhaseClock();
    c.addInterval(StageTimings.Phase.DENOISE, 1_000, 5_000); // four segments in one batched call...
    c.addInterval(StageTimings.Phase.DENOISE, 1_200, 5_000);
    c.addInterval(StageTimings.Phase.DENOISE, 1_100, 5_000);
    assertEquals(4_000, denoise(c), "...count the call once, not four times");
    c.addInterval(StageTimings.Phase.DENOISE, 4_000, 7_000); // overlaps the end: only the new part
    assertEquals(6_000, denoise(c));
    c.addInterval(StageTimings.Phase.DENOISE, 8_000, 9_000); // after a gap: all of it
    assertEquals(7_000, denoise(c));
    c.addInterval(StageTimings.Phase.DENOISE, 2_000, 3_000); // wholly inside counted time
    assertEquals(7_000, denoise(c));
    c.addInterval(StageTimings.Phase.VAE, 2_000, 3_000); // phases are separate
    assertEquals(1_000, c.snapshot(false).get(StageTimings.Phase.VAE).toNanos());
    c.add(StageTimings.Phase.DENOISE, 500); // plain additions still add
    assertEquals(7_500, denoise(c));
  }

  @Test
  void negativeNanoTimesWork() {
    PhaseClock c = new PhaseClock(); // System.nanoTime() may be negative
    c.addInterval(StageTimings.Phase.DENOISE, -9_000, -4_000);
    c.addInterval(StageTimings.Phase.DENOISE, -5_000, -1_000);
    assertEquals(8_000, denoise(c));
  }
}
