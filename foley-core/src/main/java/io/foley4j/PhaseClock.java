package io.foley4j;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** Per-job accumulator of nanoseconds per phase; written by the job's threads. */
final class PhaseClock {
  private final AtomicLongArray nanos = new AtomicLongArray(StageTimings.Phase.values().length);
  // per phase, the latest end of an interval counted by addInterval (System.nanoTime())
  private final AtomicLongArray countedUpTo = new AtomicLongArray(StageTimings.Phase.values().length);

  {
    for (int i = 0; i < countedUpTo.length(); i++) {
      countedUpTo.set(i, Long.MIN_VALUE);
    }
  }

  void add(StageTimings.Phase phase, long n) {
    nanos.addAndGet(phase.ordinal(), n);
  }

  /**
   * Adds the part of [{@code start}, {@code end}] (System.nanoTime()) after the latest end counted
   * so far for this phase, so that calls of one job that overlap (segments in flight sharing a
   * batch, encoder calls queued together) count their common time once. Calls that end out of
   * order may undercount a little; they never count time twice.
   */
  void addInterval(StageTimings.Phase phase, long start, long end) {
    int i = phase.ordinal();
    while (true) {
      long upTo = countedUpTo.get(i);
      if (upTo != Long.MIN_VALUE && end - upTo <= 0) {
        return; // wholly inside time already counted
      }
      if (countedUpTo.compareAndSet(i, upTo, end)) {
        long from = upTo == Long.MIN_VALUE || start - upTo > 0 ? start : upTo;
        nanos.addAndGet(i, Math.max(0, end - from));
        return;
      }
    }
  }

  StageTimings snapshot(boolean resultCacheHit) {
    Map<StageTimings.Phase, Long> m = new EnumMap<>(StageTimings.Phase.class);
    for (StageTimings.Phase p : StageTimings.Phase.values()) {
      m.put(p, nanos.get(p.ordinal()));
    }
    return StageTimings.ofNanos(m, resultCacheHit);
  }
}
