package io.foley4j.micrometer;

import io.foley4j.EngineStats;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyEventListener;
import io.foley4j.FoleyException;
import io.foley4j.Priority;
import io.foley4j.StageTimings;
import io.foley4j.bundle.Stage;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters for one {@link FoleyEngine}: queue depth per priority, running jobs, the
 * continuous batch, calls by batch size per stage, device busy time, utilization, memory, the load
 * score and scale advice, the circuit breaker's state, per-stage call timings and queue waits, and
 * the hits and misses of any caches it is told about.
 *
 * <pre>{@code
 * FoleyEngineMetrics metrics = new FoleyEngineMetrics();
 * FoleyEngine engine = FoleyEngine.builder().bundle(b).eventListener(metrics.eventListener()).build();
 * metrics.engine(engine).cache("result", resultCache);
 * metrics.bindTo(registry);                        // e.g. a PrometheusMeterRegistry
 * }</pre>
 *
 * <p>Gauges read {@link FoleyEngine#stats()} at most once per {@code snapshotInterval} (default
 * one second) and share that snapshot, so a scrape costs one snapshot and the engine's
 * utilization window is not cut short by each gauge. The event listener records into timers
 * without locks or blocking, as the engine requires of it; events that arrive before
 * {@link #bindTo} are not recorded.
 *
 * <p>Meter names (Prometheus form in brackets): {@code foley.queue.depth{priority}}
 * ({@code foley_queue_depth}), {@code foley.jobs.running}, {@code foley.segments.inflight},
 * {@code foley.batch.calls{stage,size}} ({@code foley_batch_calls_total}),
 * {@code foley.stage.busy{stage}} (seconds), {@code foley.utilization}, {@code foley.memory.used}
 * and {@code foley.memory.budget} (bytes), {@code foley.load.score},
 * {@code foley.scale.advice{advice}} and {@code foley.breaker.state{state}} (1 for the current
 * value, 0 for the others), {@code foley.stage.call{phase,outcome}} (timer, one record per job per
 * backend call: a batched call counts once for each of its jobs), {@code foley.queue.wait} (timer),
 * {@code foley.cache.hits{cache}}, {@code foley.cache.misses{cache}},
 * {@code foley.cache.errors{cache}}, {@code foley.cache.entries{cache}} and
 * {@code foley.cache.bytes{cache}}.
 */
public final class FoleyEngineMetrics implements MeterBinder {
  private final Map<String, TensorCache> caches = new LinkedHashMap<>();
  private final long snapshotNanos;
  private final Events events = new Events();
  private volatile FoleyEngine engine;
  private volatile MeterRegistry registry;
  private EngineStats snapshot;
  private long snapshotAt;

  /** Meters that read the engine's stats at most once a second. */
  public FoleyEngineMetrics() {
    this(java.time.Duration.ofSeconds(1));
  }

  /** Meters that read the engine's stats at most once per {@code snapshotInterval}. */
  public FoleyEngineMetrics(java.time.Duration snapshotInterval) {
    if (snapshotInterval == null || snapshotInterval.isNegative()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT,
          "snapshotInterval must be zero or positive, got " + snapshotInterval);
    }
    this.snapshotNanos = snapshotInterval.toNanos();
  }

  /**
   * The listener to pass to {@code FoleyEngine.builder().eventListener(...)}: it times every
   * backend call per phase and every queue wait.
   */
  public FoleyEventListener eventListener() {
    return events;
  }

  /** The engine whose stats the gauges read; set it before {@link #bindTo}. */
  public synchronized FoleyEngineMetrics engine(FoleyEngine engine) {
    if (engine == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "engine must not be null");
    }
    if (this.engine != null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT,
          "an engine was already set: use one FoleyEngineMetrics per engine");
    }
    this.engine = engine;
    return this;
  }

  /** Also counts the hits and misses of {@code cache} under the tag {@code cache=name}. */
  public synchronized FoleyEngineMetrics cache(String name, TensorCache cache) {
    if (name == null || name.isBlank() || cache == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "a cache needs a non-blank name and a store");
    }
    if (registry != null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "add caches before bindTo");
    }
    if (caches.putIfAbsent(name, cache) != null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "a cache named " + name + " was already added");
    }
    return this;
  }

  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    if (engine == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT,
          "set the engine with engine(...) before binding its metrics");
    }
    if (this.registry != null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "these metrics are already bound to a registry");
    }
    for (Priority p : Priority.values()) {
      gauge(registry, "foley.queue.depth", "jobs waiting to start", s -> s.queuedByPriority().getOrDefault(p, 0),
          "priority", p.name().toLowerCase(Locale.ROOT));
    }
    gauge(registry, "foley.jobs.running", "jobs started and not finished", EngineStats::runningJobs);
    gauge(registry, "foley.segments.inflight", "segments in their denoising loop", EngineStats::inFlightSegments);
    gauge(registry, "foley.utilization", "device busy time over wall time", EngineStats::utilization);
    gauge(registry, "foley.memory.used", "admitted jobs' estimated bytes", EngineStats::memoryInUseBytes);
    gauge(registry, "foley.memory.budget", "the admission budget in bytes", EngineStats::memoryBudgetBytes);
    gauge(registry, "foley.load.score", "smoothed load in [0, 1]", EngineStats::loadScore);
    for (EngineStats.ScaleAdvice a : EngineStats.ScaleAdvice.values()) {
      gauge(registry, "foley.scale.advice", "1 for the current advice", s -> s.advice() == a ? 1 : 0,
          "advice", a.name().toLowerCase(Locale.ROOT));
    }
    for (EngineStats.BreakerState b : EngineStats.BreakerState.values()) {
      gauge(registry, "foley.breaker.state", "1 for the breaker's current state", s -> s.breaker() == b ? 1 : 0,
          "state", b.name().toLowerCase(Locale.ROOT));
    }
    EngineStats first = stats();
    for (io.foley4j.DeviceStats d : first.devices()) { // one set per device, tagged by its index and name
      int i = d.index();
      String[] tags = {"device", Integer.toString(i), "backend", d.name()};
      gauge(registry, "foley.device.segments.inflight", "segments placed on the device now",
          s -> device(s, i).segmentsInFlight(), tags);
      gauge(registry, "foley.device.segments.capacity", "segments the device takes at once (-1: no limit)",
          s -> device(s, i).capacity(), tags);
      gauge(registry, "foley.device.utilization", "device busy time over wall time since build",
          s -> device(s, i).utilization(), tags);
      gauge(registry, "foley.device.queued", "work items waiting for the device", s -> device(s, i).queuedItems(), tags);
      gauge(registry, "foley.device.memory.reserved", "estimated bytes of its segments in flight",
          s -> device(s, i).memoryReservedBytes(), tags);
      gauge(registry, "foley.device.memory.budget", "bytes its segments may hold (-1: not reported)",
          s -> device(s, i).memoryBudgetBytes(), tags);
      FunctionCounter.builder("foley.device.segments.placed", this, m -> device(m.stats(), i).segmentsPlaced())
          .description("segments placed on the device since build").tags(tags).register(registry);
      FunctionCounter.builder("foley.device.calls", this, m -> device(m.stats(), i).calls())
          .description("backend calls the device ran since build").tags(tags).register(registry);
    }
    for (Map.Entry<Stage, long[]> e : first.batchHistogram().entrySet()) {
      Stage stage = e.getKey();
      String tag = stage.name().toLowerCase(Locale.ROOT);
      for (int size = 1; size < e.getValue().length; size++) {
        int n = size;
        FunctionCounter.builder("foley.batch.calls", this, m -> {
              long[] h = m.stats().batchHistogram().get(stage);
              return h == null || n >= h.length ? 0 : h[n];
            })
            .description("backend calls by batch size (work items per call)")
            .tags("stage", tag, "size", Integer.toString(n)).register(registry);
      }
      FunctionCounter.builder("foley.stage.busy", this,
              m -> m.stats().busyNanos().getOrDefault(stage, 0L) / 1e9)
          .description("seconds the device spent running the stage").baseUnit("seconds")
          .tags("stage", tag).register(registry);
    }
    for (Map.Entry<String, TensorCache> e : caches.entrySet()) {
      TensorCache cache = e.getValue();
      String name = e.getKey();
      FunctionCounter.builder("foley.cache.hits", cache, c -> cacheStats(c).hits()).tags("cache", name)
          .description("cache lookups that found an entry").register(registry);
      FunctionCounter.builder("foley.cache.misses", cache, c -> cacheStats(c).misses()).tags("cache", name)
          .description("cache lookups that found nothing").register(registry);
      FunctionCounter.builder("foley.cache.errors", cache, c -> cacheStats(c).errors()).tags("cache", name)
          .description("store failures counted as misses or dropped writes").register(registry);
      Gauge.builder("foley.cache.entries", cache, c -> cacheStats(c).entries()).tags("cache", name)
          .register(registry);
      Gauge.builder("foley.cache.bytes", cache, c -> cacheStats(c).bytes()).tags("cache", name).baseUnit("bytes")
          .register(registry);
    }
    events.bind(registry);
    this.registry = registry;
  }

  /** The stats, read from the engine at most once per snapshot interval. */
  synchronized EngineStats stats() {
    long now = System.nanoTime();
    if (snapshot == null || now - snapshotAt >= snapshotNanos) {
      snapshot = engine.stats();
      snapshotAt = now;
    }
    return snapshot;
  }

  private static CacheStats cacheStats(TensorCache cache) {
    try {
      return cache.stats();
    } catch (RuntimeException e) { // a store is user code: a failing one reads as empty
      return CacheStats.empty();
    }
  }

  private static io.foley4j.DeviceStats device(EngineStats s, int index) {
    return s.devices().get(index);
  }

  private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<EngineStats> f,
      String... tags) {
    Gauge.builder(name, this, m -> f.applyAsDouble(m.stats())).description(description).tags(tags)
        .strongReference(true).register(registry);
  }

  /** Times calls and queue waits; lock-free once bound (timers are looked up once). */
  private static final class Events extends FoleyEventListener {
    private volatile Map<StageTimings.Phase, Timer[]> calls; // [ok, failed]
    private volatile Timer queueWait;

    void bind(MeterRegistry registry) {
      Map<StageTimings.Phase, Timer[]> m = new EnumMap<>(StageTimings.Phase.class);
      for (StageTimings.Phase p : StageTimings.Phase.values()) {
        String phase = p.name().toLowerCase(Locale.ROOT);
        m.put(p, new Timer[] {
            Timer.builder("foley.stage.call").tags("phase", phase, "outcome", "ok")
                .description("backend calls per job and phase").register(registry),
            Timer.builder("foley.stage.call").tags("phase", phase, "outcome", "failed").register(registry)});
      }
      queueWait = Timer.builder("foley.queue.wait").description("time jobs waited before starting")
          .register(registry);
      calls = m;
    }

    @Override
    public void queueEnd(long jobId, long waitedNanos) {
      Timer t = queueWait;
      if (t != null) {
        t.record(waitedNanos, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public void callEnd(long jobId, StageTimings.Phase phase, int segment, int step, long nanos, boolean failed) {
      Map<StageTimings.Phase, Timer[]> m = calls;
      if (m != null) {
        m.get(phase)[failed ? 1 : 0].record(nanos, TimeUnit.NANOSECONDS);
      }
    }
  }
}
