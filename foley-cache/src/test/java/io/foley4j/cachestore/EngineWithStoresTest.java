package io.foley4j.cachestore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyEventListener;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.StageTimings;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Safetensors;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.TensorCache;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stores plugged into real engines on the reference model. */
class EngineWithStoresTest {
  static ModelBundle bundle;

  @TempDir
  static Path dir;
  static Path video;

  @BeforeAll
  static void setUp() {
    bundle = ReferenceModel.bundle();
    video = dir.resolve("v.mp4");
    SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(3).flash(1, 0.12, 0xFFFFFF).build().write(video);
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  static final class CountCalls extends FoleyEventListener {
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public void callStart(long jobId, StageTimings.Phase phase, int segment, int step) {
      calls.incrementAndGet();
    }
  }

  @Test
  void twoEnginesShareOneDiskCache() {
    Path shared = dir.resolve("shared-cache");
    TensorCache a = TensorCaches.disk(shared).build();
    TensorCache b = TensorCaches.disk(shared).build();
    FoleyRequest r = FoleyRequest.builder(video).prompt("bell").steps(4).build();
    float[] first;
    try (FoleyEngine e1 = FoleyEngine.builder().bundle(bundle).resultCache(a).featureCache(a).build()) {
      first = e1.generate(r).toArray();
    }
    CountCalls calls = new CountCalls();
    try (FoleyEngine e2 = FoleyEngine.builder().bundle(bundle).resultCache(b).featureCache(b).eventListener(calls)
        .build()) {
      FoleyResult again = e2.generate(r);
      assertArrayEquals(first, again.toArray());
      assertTrue(again.timings().resultCacheHit());
      assertEquals(0, calls.calls.get(), "the other engine's result was reused");
      e2.generate(FoleyRequest.builder(video).prompt("thunder").steps(4).build());
      assertTrue(calls.calls.get() > 0);
    }
    assertTrue(b.stats().hits() >= 2, "result hit, then feature hits: " + b.stats());
  }

  @Test
  void requestsSucceedWhileRedisIsDown() throws Exception {
    RedisServer.assumeInstalled();
    try (RedisServer server = RedisServer.start(dir);
        CloseableTensorCache redis = TensorCaches.redis().host("127.0.0.1", server.port()).build();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle).resultCache(redis).build()) {
      awaitConnected(redis);
      FoleyRequest r = FoleyRequest.builder(video).prompt("rain").steps(3).build();
      float[] computed = engine.generate(r).toArray();
      FoleyResult hit = engine.generate(r);
      assertTrue(hit.timings().resultCacheHit(), "served from Redis");
      assertArrayEquals(computed, hit.toArray());
      server.kill();
      long errorsBefore = redis.stats().errors();
      FoleyResult without = engine.generate(FoleyRequest.builder(video).prompt("rain").steps(3).seed(9).build());
      assertEquals(computed.length, without.toArray().length, "computed despite the cache being down");
      assertTrue(redis.stats().errors() > errorsBefore, "the failures were counted");
      server.start(); // a fresh server without persistence: the cache comes back empty
      awaitConnected(redis);
      assertArrayEquals(computed, engine.generate(r).toArray());
      assertTrue(engine.generate(r).timings().resultCacheHit(), "cached again once Redis is back");
    }
  }

  private static void awaitConnected(TensorCache cache) throws InterruptedException {
    CacheEntry probe = CacheEntry.of(Map.of("x", Safetensors.Tensor.f32(new float[1], 1)), Map.of());
    String key = "f".repeat(64);
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      cache.put(key, probe);
      if (cache.get(key) != null) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("redis cache did not connect");
  }
}
