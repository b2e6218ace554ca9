package io.foley4j;

import io.foley4j.backend.StageSession;
import io.foley4j.bundle.Stage;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * What {@link FoleyEngine.Builder#build()} spent, measured once at build: each stage's load time
 * (the stages load in parallel, so these overlap) and warm-up time, the whole build's wall time,
 * and which stages were loaded from the CPU backend's optimized-model cache. Immutable.
 *
 * @param stages one entry per stage, in stage order
 * @param buildMillis wall time of {@code build()}: finding the video decoder, loading, warm-up,
 *     and starting the pools
 */
public record Readiness(Map<Stage, StageReadiness> stages, double buildMillis) {

  /**
   * One stage at build.
   *
   * @param loadMillis the backend's {@code open} of this stage
   * @param warmUpMillis the warm-up call at the trained segment's shapes
   * @param optimizedModelCacheHit whether the session was loaded from an optimized model stored by an
   *     earlier build (see {@code CpuBackend.Builder.optimizedModelCache})
   */
  public record StageReadiness(double loadMillis, double warmUpMillis, boolean optimizedModelCacheHit) {}

  public Readiness {
    stages = Collections.unmodifiableMap(new EnumMap<>(stages));
  }

  /** The warm-up time of all stages (they warm up one after another). */
  public double warmUpMillis() {
    return stages.values().stream().mapToDouble(StageReadiness::warmUpMillis).sum();
  }

  /** The longest stage load: with parallel loading, about the loading part of the build. */
  public double slowestLoadMillis() {
    return stages.values().stream().mapToDouble(StageReadiness::loadMillis).max().orElse(0);
  }

  /** Whether every stage came from the optimized-model cache. */
  public boolean allFromOptimizedModelCache() {
    return stages.values().stream().allMatch(StageReadiness::optimizedModelCacheHit);
  }

  static Readiness of(Map<Stage, Long> loadNanos, Map<Stage, Long> warmNanos, Map<Stage, StageSession> sessions,
      long buildNanos) {
    Map<Stage, StageReadiness> m = new EnumMap<>(Stage.class);
    for (Stage s : Stage.values()) {
      m.put(s, new StageReadiness(loadNanos.getOrDefault(s, 0L) / 1e6, warmNanos.getOrDefault(s, 0L) / 1e6,
          sessions.get(s).optimizedModelCacheHit()));
    }
    return new Readiness(m, buildNanos / 1e6);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(String.format(java.util.Locale.ROOT, "build %.1f ms (warm-up %.1f ms)",
        buildMillis, warmUpMillis()));
    stages.forEach((s, r) -> b.append(String.format(java.util.Locale.ROOT, "; %s load %.1f ms, warm-up %.1f ms%s",
        s.key(), r.loadMillis(), r.warmUpMillis(), r.optimizedModelCacheHit() ? ", optimized-model cache hit" : "")));
    return b.toString();
  }
}
