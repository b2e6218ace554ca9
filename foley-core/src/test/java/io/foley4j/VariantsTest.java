package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.StageTimings.Phase;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A request for several variants ({@link FoleyRequest.Builder#variants}): the video is opened and
 * encoded and the prompt encoded once, the variants' denoiser rows run as one item, each variant is
 * its seed's single run, chunks and results come per variant, a cancel stops them all, the result
 * cache is keyed per variant and memory admission counts every variant.
 */
class VariantsTest extends SmallBundleTest {
  private static final int STEPS = 5;
  // longer than one segment of the reference bundle (8 s, 1 s overlap): two segments, two chunks per variant
  private static final SyntheticVideo LONG = SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(9.5)
      .flash(2.0, 0.08, 0xFFFFFF).flash(8.6, 0.08, 0xFFFFFF).build();

  /** A synthetic clip's factory that counts the videos it opens. */
  private static final class CountingVideos implements VideoSourceFactory {
    final SyntheticVideo video;
    final AtomicInteger opened = new AtomicInteger();

    CountingVideos(SyntheticVideo video) {
      this.video = video;
    }

    @Override
    public VideoSource open(Path file) {
      opened.incrementAndGet();
      return video.open();
    }

    @Override
    public VideoSource open(ByteBuffer bytes, int decoderThreads) {
      opened.incrementAndGet();
      return video.open();
    }

    @Override
    public String id() {
      return "counting-synthetic";
    }
  }

  /** Backend calls per job and phase, as the engine reports them. */
  private static final class CallCounter extends FoleyEventListener {
    final Map<Long, Map<Phase, AtomicInteger>> calls = new ConcurrentHashMap<>();
    final java.util.Set<Long> started = ConcurrentHashMap.newKeySet();

    @Override
    public void queueEnd(long jobId, long waitedNanos) {
      started.add(jobId);
    }

    @Override
    public void callStart(long jobId, Phase phase, int segment, int step) {
      calls.computeIfAbsent(jobId, id -> {
        Map<Phase, AtomicInteger> m = new EnumMap<>(Phase.class);
        for (Phase p : Phase.values()) {
          m.put(p, new AtomicInteger());
        }
        return Collections.synchronizedMap(m);
      }).get(phase).incrementAndGet();
    }

    int of(FoleyJob job, Phase phase) {
      Map<Phase, AtomicInteger> m = calls.get(job.id());
      return m == null ? 0 : m.get(phase).get();
    }
  }

  /** Collects a job's chunks. */
  private static class Chunks implements FoleyListener {
    final List<AudioChunk> chunks = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void onChunk(AudioChunk chunk) {
      chunks.add(chunk);
    }
  }

  private static FoleyRequest request(long seed, int variants) {
    FoleyRequest.Builder b = FoleyRequest.builder(new byte[] {1, 2, 3}).prompt("footsteps on glass").steps(STEPS)
        .seed(seed);
    return variants == 1 ? b.build() : b.variants(variants).build();
  }

  @Test
  void outOfRangeVariantsAreATypedError() {
    for (int n : new int[] {0, -1, FoleyRequest.MAX_VARIANTS + 1, Integer.MAX_VALUE}) {
      FoleyException e = assertThrows(FoleyException.class,
          () -> FoleyRequest.builder(Path.of("v.mp4")).prompt("x").variants(n), "variants " + n);
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
      assertTrue(e.getMessage().contains("between 1 and 8") && e.getMessage().contains("was " + n), e.getMessage());
    }
    FoleyException twice = assertThrows(FoleyException.class,
        () -> FoleyRequest.builder(Path.of("v.mp4")).variants(2).variants(3));
    assertTrue(twice.getMessage().contains("already set to 2"), twice.getMessage());
    FoleyRequest r = FoleyRequest.builder(Path.of("v.mp4")).prompt("x").seed(Long.MAX_VALUE).variants(8).build();
    assertEquals(8, r.variants());
    assertEquals(Long.MIN_VALUE, r.variantSeed(1), "seeds wrap as long arithmetic does");
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, () -> r.variantSeed(8)).code());
    assertEquals(1, FoleyRequest.of(Path.of("v.mp4"), "x").variants(), "one variant unless set");
  }

  @Test
  void decodingTheEncodersAndTheTextRunOncePerRequestAndTheDenoiserOncePerStep() {
    CountingVideos videos = new CountingVideos(LONG);
    CallCounter counter = new CallCounter();
    List<Long> denoiserRows = Collections.synchronizedList(new ArrayList<>());
    InterceptingBackend backend = new InterceptingBackend();
    backend.observe = (in, out) -> {
      if (in.containsKey("timestep")) {
        denoiserRows.add(in.get("latents").shape()[0]);
      }
    };
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(backend).videoSources(videos)
        .eventListener(counter).maxConcurrentRequests(1).build()) {
      FoleyJob single = e.submit(request(5, 1));
      single.await();
      assertEquals(1, videos.opened.get());
      denoiserRows.clear();
      FoleyJob four = e.submit(request(5, 4));
      FoleyResult r = four.await();
      assertEquals(2, videos.opened.get(), "the video is opened (and decoded) once for four variants");
      assertEquals(4, r.variantCount());
      int segments = new SegmentPlan(bundle.manifest(), r.sampleCount()).count;
      assertEquals(2, segments);
      assertEquals(1, counter.of(four, Phase.TEXT), "the prompt is encoded once");
      assertTrue(counter.of(single, Phase.VISUAL) > 0 && counter.of(single, Phase.SYNC) > 0);
      assertEquals(counter.of(single, Phase.VISUAL), counter.of(four, Phase.VISUAL),
          "the visual encoder runs as often as for one variant");
      assertEquals(counter.of(single, Phase.SYNC), counter.of(four, Phase.SYNC),
          "the sync encoder runs as often as for one variant");
      assertEquals(STEPS * segments, counter.of(four, Phase.DENOISE), "one denoiser item per step and segment");
      assertEquals(segments, counter.of(four, Phase.VAE), "one VAE item per segment");
      assertFalse(denoiserRows.isEmpty());
      assertTrue(denoiserRows.stream().allMatch(rows -> rows % 8 == 0),
          "every denoiser call carries the 4 variants' CFG pairs: " + denoiserRows);
    }
  }

  @Test
  void eachVariantIsItsSeedRunAloneBitForBit() {
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(CLIP.asFactory()).maxConcurrentRequests(1)
        .build()) {
      Chunks chunks = new Chunks();
      FoleyResult three = e.submit(request(40, 3), chunks).await();
      assertEquals(3, three.variantCount());
      assertEquals(0, three.variantIndex());
      for (int v = 0; v < 3; v++) {
        FoleyResult alone = e.submit(request(40 + v, 1)).await();
        FoleyResult variant = three.variant(v);
        assertEquals(v, variant.variantIndex());
        assertEquals(40 + v, variant.seed());
        assertEquals(alone.sampleCount(), variant.sampleCount(), "output length exact");
        assertArrayEquals(alone.toArray(), variant.toArray(), "variant " + v + " equals seed " + (40 + v) + " alone");
        assertTrue(AudioAnalysis.maxAbs(variant.toArray(), 0, variant.sampleCount()) > 0, "not silence");
      }
      assertFalse(java.util.Arrays.equals(three.variant(0).toArray(), three.variant(1).toArray()), "variants differ");
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, () -> three.variant(3)).code());
    }
  }

  @Test
  void chunksSayTheirVariantAndConcatenateToThatVariantsResult() {
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(LONG.asFactory()).build()) {
      Chunks listener = new Chunks();
      FoleyResult r = e.submit(request(3, 3), listener).await();
      for (int v = 0; v < 3; v++) {
        int variant = v;
        List<AudioChunk> mine = listener.chunks.stream().filter(c -> c.variant() == variant).toList();
        assertEquals(2, mine.size(), "two segments, two chunks of variant " + v);
        float[] joined = new float[r.sampleCount()];
        long offset = 0;
        for (int i = 0; i < mine.size(); i++) {
          AudioChunk c = mine.get(i);
          assertEquals(i, c.index());
          assertEquals(offset, c.sampleOffset(), "contiguous");
          assertEquals(i == mine.size() - 1, c.isLast(), "one last chunk per variant");
          c.samples().get(joined, (int) offset, c.length());
          offset += c.length();
        }
        assertEquals(r.sampleCount(), offset, "the chunks cover the result exactly");
        assertArrayEquals(r.variant(v).toArray(), joined);
      }
      assertEquals(6, listener.chunks.size());
      assertEquals(List.of(0, 1, 2, 0, 1, 2), listener.chunks.stream().map(AudioChunk::variant).toList(),
          "segment by segment, variant by variant");
    }
  }

  @Test
  void cancellingTheJobStopsEveryVariant() throws Exception {
    CallCounter counter = new CallCounter();
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(LONG.asFactory()).eventListener(counter)
        .build()) {
      AtomicReference<FoleyJob> job = new AtomicReference<>();
      Chunks chunks = new Chunks() {
        @Override
        public void onProgress(Progress p) {
          job.get().cancel(); // after the first denoiser step
        }
      };
      java.util.concurrent.CountDownLatch submitted = new java.util.concurrent.CountDownLatch(1);
      FoleyListener gated = new FoleyListener() {
        @Override
        public void onProgress(Progress p) {
          try {
            submitted.await();
          } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
          }
          chunks.onProgress(p);
        }

        @Override
        public void onChunk(AudioChunk c) {
          chunks.onChunk(c);
        }
      };
      job.set(e.submit(request(9, 4), gated));
      submitted.countDown();
      FoleyException f = assertThrows(FoleyException.class, () -> job.get().await());
      assertEquals(FoleyException.Code.CANCELLED, f.code());
      assertTrue(job.get().isCancelled());
      TestSupport.awaitCondition("the job's work stopped",
          () -> e.stats().runningJobs() == 0 && e.stats().memoryInUseBytes() == 0 && e.stats().inFlightSegments() == 0);
      assertTrue(chunks.chunks.isEmpty(), "no variant emitted a chunk: " + chunks.chunks);
      assertTrue(counter.of(job.get(), Phase.DENOISE) < 2 * STEPS, "stopped before the end of the steps: "
          + counter.of(job.get(), Phase.DENOISE));
      assertEquals(0, counter.of(job.get(), Phase.VAE), "no variant was decoded");
      // the engine goes on
      assertEquals(2, e.submit(request(9, 2)).await().variantCount());
    }
  }

  @Test
  void resultCacheKeysArePerVariantSoASingleRequestHitsAVariantsEntry() {
    MapCache cache = new MapCache();
    CallCounter counter = new CallCounter();
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(CLIP.asFactory()).resultCache(cache)
        .eventListener(counter).build()) {
      FoleyResult three = e.submit(request(70, 3)).await();
      assertEquals(3, cache.map.size(), "one entry per variant");
      FoleyJob second = e.submit(request(72, 1));
      FoleyResult hit = second.await();
      assertTrue(hit.timings().resultCacheHit(), "seed 72 alone is variant 2's entry");
      assertEquals(0, counter.of(second, Phase.DENOISE));
      assertArrayEquals(three.variant(2).toArray(), hit.toArray());
      Chunks replay = new Chunks();
      FoleyJob again = e.submit(request(70, 3), replay);
      FoleyResult all = again.await();
      assertTrue(all.timings().resultCacheHit(), "every variant stored: a hit");
      assertEquals(0, counter.of(again, Phase.DENOISE));
      for (int v = 0; v < 3; v++) {
        assertArrayEquals(three.variant(v).toArray(), all.variant(v).toArray());
        int variant = v;
        assertTrue(replay.chunks.stream().anyMatch(c -> c.variant() == variant && c.isLast()));
      }
      FoleyJob partial = e.submit(request(71, 3)); // seeds 71, 72 stored, 73 not: computed as a whole
      FoleyResult computed = partial.await();
      assertFalse(computed.timings().resultCacheHit());
      assertTrue(counter.of(partial, Phase.DENOISE) > 0);
      assertArrayEquals(three.variant(1).toArray(), computed.variant(0).toArray(), "seed 71 is seed 71");
      assertEquals(4, cache.map.size(), "seed 73 added");
    }
  }

  @Test
  void identicalMultiVariantRequestsShareOneComputation() {
    CallCounter counter = new CallCounter();
    InterceptingBackend backend = new InterceptingBackend();
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(backend).videoSources(CLIP.asFactory())
        .singleFlight(true).eventListener(counter).build()) {
      backend.holdNextCall();
      FoleyJob first = e.submit(request(5, 2));
      try {
        backend.awaitHeld();
      } catch (InterruptedException ex) {
        throw new AssertionError(ex);
      }
      FoleyJob twin = e.submit(request(5, 2));
      // its probe started and ended (the request thread is free again): it joined the first's flight
      TestSupport.awaitCondition("the twin was probed",
          () -> counter.started.contains(twin.id()) && e.stats().runningJobs() == 1);
      backend.release();
      FoleyResult a = first.await();
      FoleyResult b = twin.await();
      assertEquals(0, counter.of(twin, Phase.DENOISE), "the twin computed nothing of its own");
      assertArrayEquals(a.variant(1).toArray(), b.variant(1).toArray());
      assertEquals(2, b.variantCount());
    }
  }

  @Test
  void memoryAdmissionCountsEveryVariant() {
    BundleManifest m = bundle.manifest();
    PipelineConfig p = FakeStageCalls.pipeline(bundle, 8, 2);
    SegmentPlan plan = new SegmentPlan(m, SegmentPlan.samplesFor(1200, 1000, m.audio().sampleRate()));
    long picture = PipelineConfig.pictureBytes(64, 48);
    long one = p.memoryNeed(plan, 1, picture, 1);
    long eight = p.memoryNeed(plan, 1, picture, 8);
    assertEquals(one, p.memoryNeed(plan, 1, picture), "one variant is the request as before");
    SegmentPlan.Segment big = plan.largest();
    long perVariant = 3L * 2 * m.latent().channels() * big.latents() * 4 // latents of 3 segments, both halves
        + 2L * plan.totalSamples * 4 + 3L * big.decodedSamples() * 4;     // result, chunks, decoded segments
    assertTrue(eight - one >= 7 * perVariant, "seven more variants add at least their latents and audio: "
        + (eight - one) + " < " + 7 * perVariant);
    Sampler.Settings s1 = Sampler.Settings.of(m, request(0, 1));
    Sampler.Settings s8 = Sampler.Settings.of(m, request(0, 8));
    assertEquals(8 * Devices.segmentBytes(m, big, s1, 1000), Devices.segmentBytes(m, big, s8, 1000),
        "a measured per-segment charge is taken once per variant");
    assertTrue(Devices.segmentBytes(m, big, s8, 0) > 4 * Devices.segmentBytes(m, big, s1, 0));

    long budget = (one + eight) / 2;
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(CLIP.asFactory()).memoryBudgetBytes(budget)
        .build()) {
      assertEquals(1, e.submit(request(0, 1)).await().variantCount(), "one variant fits");
      FoleyException f = assertThrows(FoleyException.class, () -> e.submit(request(0, 8)).await());
      assertEquals(FoleyException.Code.REJECTED, f.code(), f.toString());
      assertTrue(f.getMessage().contains("memory budget"), f.getMessage());
      assertEquals(0, e.stats().memoryInUseBytes());
    }
  }
}
