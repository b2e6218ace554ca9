package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Result cache, feature cache and single-flight as the engine uses them. */
class CachingTest {
  static ModelBundle bundle;

  @TempDir
  static Path dir;
  static Path video;

  @BeforeAll
  static void setUp() {
    bundle = TestSupport.referenceBundle();
    video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(10).flash(1, 0.12, 0xFFFFFF)
        .flash(8.5, 0.12, 0xFFFFFF).build(), video);
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  /** A plain map, counting what the engine asks. */
  static final class MapCache implements TensorCache {
    final Map<String, CacheEntry> map = new ConcurrentHashMap<>();
    final AtomicInteger hits = new AtomicInteger();
    final AtomicInteger misses = new AtomicInteger();
    final AtomicInteger puts = new AtomicInteger();

    @Override
    public CacheEntry get(String key) {
      CacheEntry e = map.get(key);
      (e == null ? misses : hits).incrementAndGet();
      return e;
    }

    @Override
    public void put(String key, CacheEntry entry) {
      puts.incrementAndGet();
      map.put(key, CacheEntry.fromBytes(entry.toBytes())); // store the bytes, as real stores do
    }

    @Override
    public CacheStats stats() {
      return new CacheStats(hits.get(), misses.get(), puts.get(), 0, 0, map.size(), 0);
    }
  }

  /** Counts backend calls per phase. */
  static final class Calls extends FoleyEventListener {
    final Map<StageTimings.Phase, AtomicInteger> n = new ConcurrentHashMap<>();
    final Map<Long, Boolean> jobsWithCalls = new ConcurrentHashMap<>();

    @Override
    public void callStart(long jobId, StageTimings.Phase phase, int segment, int step) {
      n.computeIfAbsent(phase, p -> new AtomicInteger()).incrementAndGet();
      jobsWithCalls.put(jobId, true);
    }

    int of(StageTimings.Phase p) {
      AtomicInteger a = n.get(p);
      return a == null ? 0 : a.get();
    }

    void reset() {
      n.clear();
      jobsWithCalls.clear();
    }
  }

  private static List<AudioChunk> collect(FoleyEngine engine, FoleyRequest r, float[][] out) {
    List<AudioChunk> chunks = new CopyOnWriteArrayList<>();
    out[0] = engine.submit(r, new FoleyListener() {
      @Override
      public void onChunk(AudioChunk c) {
        chunks.add(c);
      }
    }).await().toArray();
    return chunks;
  }

  @Test
  void resultCacheHitNeverTouchesTheBackendAndStillStreamsChunks() {
    MapCache cache = new MapCache();
    Calls calls = new Calls();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).resultCache(cache).eventListener(calls).build()) {
      FoleyRequest r = FoleyRequest.builder(video).prompt("bell").steps(5).seed(3).build();
      float[][] first = new float[1][];
      List<AudioChunk> c1 = collect(engine, r, first);
      assertEquals(1, cache.puts.get());
      calls.reset();
      float[][] second = new float[1][];
      FoleyResult[] res = new FoleyResult[1];
      List<AudioChunk> c2 = new CopyOnWriteArrayList<>();
      res[0] = engine.submit(r, new FoleyListener() {
        @Override
        public void onChunk(AudioChunk c) {
          c2.add(c);
        }
      }).await();
      second[0] = res[0].toArray();
      assertTrue(calls.n.isEmpty(), "no backend call on a hit: " + calls.n);
      assertArrayEquals(first[0], second[0]);
      assertTrue(res[0].timings().resultCacheHit());
      assertEquals(0.0, res[0].timings().millis(StageTimings.Phase.DENOISE));
      assertEquals(c1.size(), c2.size());
      for (int i = 0; i < c1.size(); i++) {
        assertEquals(c1.get(i).sampleOffset(), c2.get(i).sampleOffset());
        assertArrayEquals(c1.get(i).toArray(), c2.get(i).toArray());
      }
      // any change of a parameter is a miss
      calls.reset();
      engine.generate(FoleyRequest.builder(video).prompt("bell").steps(5).seed(4).build());
      assertTrue(calls.of(StageTimings.Phase.DENOISE) > 0);
    }
  }

  @Test
  void promptOnlyChangeSkipsDecodingAndVideoEncoders() {
    MapCache features = new MapCache();
    Calls calls = new Calls();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).featureCache(features).eventListener(calls)
        .build()) {
      FoleyResult a = engine.generate(FoleyRequest.builder(video).prompt("glass breaking").steps(5).build());
      assertEquals(2, features.puts.get(), "one entry per segment");
      assertTrue(calls.of(StageTimings.Phase.VISUAL) > 0 && calls.of(StageTimings.Phase.SYNC) > 0);
      calls.reset();
      FoleyResult b = engine.generate(FoleyRequest.builder(video).prompt("low thunder rumble").steps(5).build());
      assertEquals(0, calls.of(StageTimings.Phase.VISUAL), "no visual encoding");
      assertEquals(0, calls.of(StageTimings.Phase.SYNC), "no sync encoding");
      assertTrue(calls.of(StageTimings.Phase.DENOISE) > 0);
      assertEquals(a.sampleCount(), b.sampleCount());
      assertFalse(java.util.Arrays.equals(a.toArray(), b.toArray()), "another prompt, another sound");
      // same prompt from cached features gives the same samples as computing them
      FoleyResult again = engine.generate(FoleyRequest.builder(video).prompt("glass breaking").steps(5).build());
      assertArrayEquals(a.toArray(), again.toArray());
    }
  }

  @Test
  void identicalConcurrentRequestsAreComputedOnce() throws Exception {
    Calls calls = new Calls();
    InterceptingBackend backend = new InterceptingBackend();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).singleFlight(true)
        .maxConcurrentRequests(16).eventListener(calls).build()) {
      backend.holdNextCall();
      FoleyRequest r = FoleyRequest.builder(video).prompt("footsteps").steps(4).build();
      List<FoleyJob> jobs = new ArrayList<>();
      List<List<AudioChunk>> chunks = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        List<AudioChunk> mine = new CopyOnWriteArrayList<>();
        chunks.add(mine);
        jobs.add(engine.submit(r, new FoleyListener() {
          @Override
          public void onChunk(AudioChunk c) {
            mine.add(c);
          }
        }));
      }
      backend.awaitHeld();
      FoleyJob cancelled = jobs.get(0); // the leader, most likely: the others must not notice
      assertTrue(cancelled.cancel());
      backend.release();
      float[] expected = null;
      for (int i = 1; i < 16; i++) {
        float[] got = jobs.get(i).await().toArray();
        if (expected == null) {
          expected = got;
        }
        assertArrayEquals(expected, got);
        long next = 0;
        for (AudioChunk c : chunks.get(i)) {
          assertEquals(next, c.sampleOffset());
          next += c.length();
        }
        assertEquals(got.length, next, "job " + i + " got every chunk");
      }
      assertEquals(FoleyException.Code.CANCELLED, assertThrows(FoleyException.class, cancelled::await).code());
      assertEquals(1, calls.jobsWithCalls.size(), "one computation for 16 requests");
      assertEquals(1, calls.of(StageTimings.Phase.TEXT));
    }
  }

  @Test
  void anEngineWithoutCachesKeysNothing() {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      Path missing = dir.resolve("missing.mp4");
      FoleyException e = assertThrows(FoleyException.class, () -> engine.generate(FoleyRequest.of(missing, "x")));
      assertEquals(FoleyException.Code.IO, e.code());
    }
  }
}
