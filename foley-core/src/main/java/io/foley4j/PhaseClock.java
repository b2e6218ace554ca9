package io.foley4j;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** Per-job accumulator of nanoseconds per phase; written by the job's threads. */
final class PhaseClock {
  private final AtomicLongArray nanos = new AtomicLongArray(StageTimings.Phase.values().length);

  void add(StageTimings.Phase phase, long n) {
    nanos.addAndGet(phase.ordinal(), n);
  }

  StageTimings snapshot(boolean resultCacheHit) {
    Map<StageTimings.Phase, Long> m = new EnumMap<>(StageTimings.Phase.class);
    for (StageTimings.Phase p : StageTimings.Phase.values()) {
      m.put(p, nanos.get(p.ordinal()));
    }
    return StageTimings.ofNanos(m, resultCacheHit);
  }
}
