package io.foley4j;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Where a request's time went, per phase: a diagnosis table built into every result.
 * Backend phases (visual, sync, text, denoise, vae) count the time this request had calls of that
 * phase at the device, from submission to result (queue wait included; calls of the request that
 * overlap, such as segments in flight sharing one batched call, count their common time once);
 * decode counts reading, decoding, sampling and resizing frames (which overlaps inference);
 * total is wall time from submission to completion. Immutable.
 */
public final class StageTimings {

  /** The phases of a request. */
  public enum Phase { QUEUE_WAIT, DECODE, TEXT, VISUAL, SYNC, DENOISE, VAE, TOTAL }

  private final Map<Phase, Long> nanos;
  private final boolean resultCacheHit;

  private StageTimings(Map<Phase, Long> nanos, boolean resultCacheHit) {
    this.nanos = nanos;
    this.resultCacheHit = resultCacheHit;
  }

  /** Timings from nanoseconds per phase; phases not given are zero. */
  static StageTimings ofNanos(Map<Phase, Long> nanos, boolean resultCacheHit) {
    EnumMap<Phase, Long> m = new EnumMap<>(Phase.class);
    for (Phase p : Phase.values()) {
      m.put(p, Math.max(0, nanos.getOrDefault(p, 0L)));
    }
    return new StageTimings(m, resultCacheHit);
  }

  /** All zero. */
  public static StageTimings empty() {
    return ofNanos(Map.of(), false);
  }

  public Duration get(Phase phase) {
    return Duration.ofNanos(nanos.get(phase));
  }

  public double millis(Phase phase) {
    return nanos.get(phase) / 1e6;
  }

  /** Whether the result came from a result cache (then backend phases are zero). */
  public boolean resultCacheHit() {
    return resultCacheHit;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("StageTimings[");
    for (Phase p : Phase.values()) {
      b.append(p.name().toLowerCase(java.util.Locale.ROOT)).append('=')
          .append(String.format(java.util.Locale.ROOT, "%.1fms", millis(p))).append(p == Phase.TOTAL ? "" : ", ");
    }
    return b.append(resultCacheHit ? ", cache hit]" : "]").toString();
  }
}
