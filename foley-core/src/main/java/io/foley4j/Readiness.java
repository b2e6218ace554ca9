package io.foley4j;

import io.foley4j.backend.StageSession;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link FoleyEngine.Builder#build()} spent, measured once at build: each stage's load time
 * (the stages of a device load in parallel, so these overlap) and warm-up time, the memory it
 * found, the whole build's wall time, and which stages were loaded from the CPU backend's
 * optimized-model cache. Immutable.
 *
 * @param buildMillis wall time of {@code build()}: finding the video decoder, loading, warm-up,
 *     and starting the pools
 * @param devices one entry per device, in the builder's order (devices load one after another)
 * @param heapUsedBytes the JVM heap in use when the build ended
 * @param requestWarmUpMillis the warm-up request of {@link WarmUp#FULL}; 0 when none ran
 */
public record Readiness(double buildMillis, List<DeviceReadiness> devices, long heapUsedBytes,
    double requestWarmUpMillis) {

  /**
   * One stage on one device at build.
   *
   * @param loadMillis the backend's {@code open} of this stage
   * @param warmUpMillis the warm-up calls (see {@link WarmUp})
   * @param warmUpBatches the batch (rows) of each warm-up call, in order; empty with {@link WarmUp#NONE}
   * @param modelBytes the stage's model file and external data on disk (what the device loads)
   * @param optimizedModelCacheHit whether the session was loaded from an optimized model stored by an
   *     earlier build (see {@code CpuBackend.Builder.optimizedModelCache})
   * @param engineCacheHit whether the runtime loaded its compiled engine from a cache instead of
   *     building it (TensorRT's engine cache: a miss is TensorRT's first-build cost, in loadMillis)
   */
  public record StageReadiness(double loadMillis, double warmUpMillis, List<Integer> warmUpBatches, long modelBytes,
      boolean optimizedModelCacheHit, boolean engineCacheHit) {
    public StageReadiness {
      warmUpBatches = List.copyOf(warmUpBatches);
    }
  }

  /**
   * One device at build.
   *
   * @param index its place in the builder's list
   * @param name the backend's name
   * @param stages its stages
   * @param freeMemoryBytes free memory the backend reported after loading and warm-up; -1 when it
   *     reports none (the CPU)
   * @param segmentCapacity segments it takes at once (from its memory and {@code maxSegmentsPerDevice});
   *     -1 for no limit
   */
  public record DeviceReadiness(int index, String name, Map<Stage, StageReadiness> stages, long freeMemoryBytes,
      int segmentCapacity) {
    public DeviceReadiness {
      stages = Collections.unmodifiableMap(new EnumMap<>(stages));
    }

    /** The warm-up time of this device's stages (they warm up one after another). */
    public double warmUpMillis() {
      return stages.values().stream().mapToDouble(StageReadiness::warmUpMillis).sum();
    }
  }

  public Readiness {
    devices = List.copyOf(devices);
    if (devices.isEmpty()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "a readiness report needs at least one device");
    }
  }

  /** The first device's stages, in stage order ({@link #devices()} has every device's). */
  public Map<Stage, StageReadiness> stages() {
    return devices.get(0).stages();
  }

  /** The warm-up time of all stages of all devices. */
  public double warmUpMillis() {
    return devices.stream().mapToDouble(DeviceReadiness::warmUpMillis).sum();
  }

  /** The longest stage load: with parallel loading, about the loading part of the build (of one device). */
  public double slowestLoadMillis() {
    return stages().values().stream().mapToDouble(StageReadiness::loadMillis).max().orElse(0);
  }

  /** Whether every stage of every device came from the optimized-model cache. */
  public boolean allFromOptimizedModelCache() {
    return devices.stream().flatMap(d -> d.stages().values().stream()).allMatch(StageReadiness::optimizedModelCacheHit);
  }

  /** Stages, over all devices, whose compiled engine came from the runtime's engine cache. */
  public long engineCacheHits() {
    return devices.stream().flatMap(d -> d.stages().values().stream()).filter(StageReadiness::engineCacheHit).count();
  }

  /** The bytes of all stages' model files, as loaded by each device. */
  public long modelBytes() {
    return stages().values().stream().mapToLong(StageReadiness::modelBytes).sum();
  }

  static DeviceReadiness device(int index, String name, Map<Stage, Long> loadNanos, Map<Stage, Long> warmNanos,
      Map<Stage, List<Integer>> warmed, Map<Stage, StageSession> sessions, ModelBundle bundle, long free, int capacity) {
    Map<Stage, StageReadiness> m = new EnumMap<>(Stage.class);
    for (Stage s : Stage.values()) {
      m.put(s, new StageReadiness(loadNanos.getOrDefault(s, 0L) / 1e6, warmNanos.getOrDefault(s, 0L) / 1e6,
          warmed.getOrDefault(s, List.of()), modelBytes(bundle, s), sessions.get(s).optimizedModelCacheHit(),
          sessions.get(s).engineCacheHit()));
    }
    return new DeviceReadiness(index, name, m, free, capacity);
  }

  private static long modelBytes(ModelBundle bundle, Stage s) {
    long n = size(bundle.stageFile(s));
    for (String f : bundle.manifest().files().externalData().get(s)) {
      n += size(bundle.directory().resolve(f));
    }
    return n;
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (java.io.IOException e) {
      return 0; // the stage loaded from it a moment ago; a file gone since is not the build's failure
    }
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "build %.1f ms (warm-up %.1f ms, warm-up request %.1f"
        + " ms), models %.1f MiB, heap in use %.1f MiB", buildMillis, warmUpMillis(), requestWarmUpMillis,
        modelBytes() / 1048576.0, heapUsedBytes / 1048576.0));
    for (DeviceReadiness d : devices) {
      b.append(String.format(Locale.ROOT, "; device %d %s: free memory %s, segment capacity %s", d.index(), d.name(),
          d.freeMemoryBytes() < 0 ? "not reported" : String.format(Locale.ROOT, "%.1f MiB", d.freeMemoryBytes() / 1048576.0),
          d.segmentCapacity() < 0 ? "unlimited" : Integer.toString(d.segmentCapacity())));
      d.stages().forEach((s, r) -> b.append(String.format(Locale.ROOT, "; %s load %.1f ms, warm-up %.1f ms (batches %s)%s",
          s.key(), r.loadMillis(), r.warmUpMillis(), r.warmUpBatches(),
          (r.optimizedModelCacheHit() ? ", optimized-model cache hit" : "") + (r.engineCacheHit() ? ", engine cache hit" : ""))));
    }
    return b.toString();
  }
}
