package io.foley4j.micrometer;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import io.foley4j.video.SyntheticVideo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FoleyEngineMetricsTest {
  @TempDir Path dir;

  /** A map-backed result cache that counts its own hits and misses. */
  static final class CountingCache implements TensorCache {
    final Map<String, CacheEntry> map = new ConcurrentHashMap<>();
    final AtomicLong hits = new AtomicLong();
    final AtomicLong misses = new AtomicLong();

    @Override
    public CacheEntry get(String key) {
      CacheEntry e = map.get(key);
      (e == null ? misses : hits).incrementAndGet();
      return e;
    }

    @Override
    public void put(String key, CacheEntry entry) {
      map.put(key, entry);
    }

    @Override
    public CacheStats stats() {
      return new CacheStats(hits.get(), misses.get(), map.size(), 0, 0, map.size(), 0);
    }
  }

  @Test
  void metersFollowTheEngine() throws Exception {
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1).flash(0.3, 0.1, 0xFFFFFF).build(), video);
    CountingCache cache = new CountingCache();
    FoleyEngineMetrics metrics = new FoleyEngineMetrics(Duration.ZERO);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (ModelBundle bundle = TestSupport.referenceBundle();
         FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(Backends.cpu())
             .eventListener(metrics.eventListener()).resultCache(cache).build()) {
      metrics.engine(engine).cache("result", cache).bindTo(registry);
      assertEquals(1.0, registry.get("foley.breaker.state").tag("state", "closed").gauge().value());
      assertEquals(0.0, registry.get("foley.breaker.state").tag("state", "open").gauge().value());
      FoleyRequest request = FoleyRequest.builder(video).prompt("tap").steps(3).build();
      engine.generate(request);
      engine.generate(request); // the second is a result-cache hit

      double denoiseCalls = registry.get("foley.batch.calls").tag("stage", "denoiser").functionCounters().stream()
          .mapToDouble(c -> c.count()).sum();
      assertTrue(denoiseCalls >= 3, "three steps of one segment at least: " + denoiseCalls);
      assertEquals(3, registry.get("foley.stage.call").tags("phase", "denoise", "outcome", "ok").timer().count(),
          "one timed call per step of the one computed job");
      assertEquals(2, registry.get("foley.queue.wait").timer().count());
      assertEquals(1.0, registry.get("foley.cache.hits").tag("cache", "result").functionCounter().count());
      assertEquals(1.0, registry.get("foley.cache.misses").tag("cache", "result").functionCounter().count());
      assertEquals(0.0, registry.get("foley.queue.depth").tag("priority", "normal").gauge().value());
      assertEquals(1.0, registry.get("foley.device.segments.placed").tags("device", "0", "backend", "cpu")
          .functionCounter().count(), "one computed request of one segment on device 0");
      assertEquals(engine.diagnostics().backendCalls(), registry.get("foley.device.calls").tag("device", "0")
          .functionCounter().count());
      assertEquals(-1.0, registry.get("foley.device.memory.budget").tag("device", "0").gauge().value(),
          "the CPU reports no memory");
      assertEquals(0.0, registry.get("foley.device.segments.inflight").tag("device", "0").gauge().value());
      double busy = registry.get("foley.stage.busy").tag("stage", "denoiser").functionCounter().count();
      assertTrue(busy > 0, "the denoiser ran: " + busy);
      double advice = 0;
      for (String a : new String[] {"scale_up", "hold", "scale_down"}) {
        advice += registry.get("foley.scale.advice").tag("advice", a).gauge().value();
      }
      assertEquals(1.0, advice, "exactly one advice is current");
      double score = registry.get("foley.load.score").gauge().value();
      assertTrue(score >= 0 && score <= 1, "load score " + score);
    }
  }

  @Test
  void misuseIsAFoleyException() throws Exception {
    FoleyEngineMetrics metrics = new FoleyEngineMetrics();
    FoleyException unbound = assertThrows(FoleyException.class, () -> metrics.bindTo(new SimpleMeterRegistry()));
    assertTrue(unbound.getMessage().contains("set the engine"), unbound.getMessage());
    assertThrows(FoleyException.class, () -> metrics.cache(" ", new CountingCache()));
    metrics.cache("a", new CountingCache());
    assertTrue(assertThrows(FoleyException.class, () -> metrics.cache("a", new CountingCache())).getMessage()
        .contains("already added"));
    assertThrows(FoleyException.class, () -> new FoleyEngineMetrics(Duration.ofSeconds(-1)));
    assertThrows(FoleyException.class, () -> metrics.engine(null));
  }
}
