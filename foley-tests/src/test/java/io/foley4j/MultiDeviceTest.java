package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.backend.Backend;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several devices, each a fake: an ONNX Runtime CPU backend of one thread that may report a free
 * memory. Placement, per-device capacity, segments of one job in flight, failures and cancels.
 */
class MultiDeviceTest {
  static ModelBundle bundle;
  @TempDir
  static Path dir;
  static Path longClip; // 5 segments of 8 s with 1 s overlap

  @BeforeAll
  static void setUp() {
    bundle = TestSupport.smallReferenceBundle();
    longClip = dir.resolve("long.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(36).flash(1, 0.12, 0xFFFFFF)
        .flash(20.5, 0.12, 0xFFFFFF).build(), longClip);
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  /** A fake device: the CPU backend on one thread, with a free memory to report and call records. */
  static final class FakeDevice implements Backend {
    private final Backend cpu = CpuBackend.builder().intraOpThreads(1).build();
    private final String name;
    private final OptionalLong free;
    final AtomicInteger maxDenoiserRows = new AtomicInteger();
    final AtomicInteger denoiserCalls = new AtomicInteger();
    final AtomicInteger vaeCalls = new AtomicInteger();
    volatile int failVaeCall = -1; // the 1-based VAE call that fails, -1 none
    final AtomicInteger failRetries = new AtomicInteger(); // single-item retries of the failed call still to fail
    volatile boolean engineCached; // its sessions say their engine came from a cache (as TensorRT's can)
    volatile boolean failOpen; // every open throws, as a device without a driver would
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();

    FakeDevice(String name, long free) {
      this.name = name;
      this.free = free < 0 ? OptionalLong.empty() : OptionalLong.of(free);
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public OptionalLong freeMemoryBytes() {
      return free;
    }

    @Override
    public StageSession open(StageSpec spec, Path modelFile) {
      if (failOpen) {
        throw new FoleyException(FoleyException.Code.BACKEND_FAILURE, name + " cannot open " + spec.stage().key());
      }
      StageSession s = cpu.open(spec, modelFile);
      opened.incrementAndGet();
      return new StageSession() {
        @Override
        public StageSpec spec() {
          return s.spec();
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> inputs) {
          if (spec.stage() == Stage.DENOISER) {
            denoiserCalls.incrementAndGet();
            maxDenoiserRows.accumulateAndGet((int) inputs.get("latents").dim(0), Math::max);
          } else if (spec.stage() == Stage.VAE_DECODER) {
            int rows = (int) inputs.get("latents").dim(0);
            if (vaeCalls.incrementAndGet() == failVaeCall) {
              // the fault is in those segments' data: the scheduler's retries of a failed batch, item by
              // item, fail too (otherwise whether the job fails would depend on how the calls batched)
              failRetries.set(rows > 1 ? rows : 0);
              throw new FoleyException(FoleyException.Code.BACKEND_FAILURE, "injected VAE failure on " + name);
            }
            if (rows == 1 && failRetries.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
              throw new FoleyException(FoleyException.Code.BACKEND_FAILURE, "injected VAE failure on " + name);
            }
          }
          return s.run(inputs);
        }

        @Override
        public long runNanos() {
          return s.runNanos();
        }

        @Override
        public boolean engineCacheHit() {
          return engineCached;
        }

        @Override
        public void terminateRunning() {
          s.terminateRunning();
        }

        @Override
        public void close() {
          closed.incrementAndGet();
          s.close();
        }
      };
    }

    void resetCounts() {
      maxDenoiserRows.set(0);
      denoiserCalls.set(0);
      vaeCalls.set(0);
      failRetries.set(0);
    }
  }

  private static FoleyRequest request(int steps) {
    return FoleyRequest.builder(longClip).prompt("door slams, footsteps").steps(steps).seed(5).build();
  }

  /** Records chunks and progress as the listener sees them. */
  static final class Seen implements FoleyListener {
    final List<AudioChunk> chunks = new CopyOnWriteArrayList<>();
    final List<Progress> progress = new CopyOnWriteArrayList<>();

    @Override
    public void onChunk(AudioChunk chunk) {
      chunks.add(chunk);
    }

    @Override
    public void onProgress(Progress p) {
      progress.add(p);
    }

    void assertInOrder(int segments, long steps) {
      long next = 0;
      for (int i = 0; i < chunks.size(); i++) {
        assertEquals(i, chunks.get(i).index(), "chunks in order");
        assertEquals(next, chunks.get(i).sampleOffset(), "chunks contiguous");
        next += chunks.get(i).length();
      }
      assertEquals(segments, chunks.size());
      for (int i = 1; i < progress.size(); i++) {
        Progress a = progress.get(i - 1);
        Progress b = progress.get(i);
        assertTrue(b.stepsDone() >= a.stepsDone() && b.segmentsDone() >= a.segmentsDone(),
            "progress never goes back: " + a + " then " + b);
      }
      Progress last = progress.get(progress.size() - 1);
      assertEquals(steps, last.stepsDone());
      assertEquals(segments, last.segmentsDone());
    }
  }

  @Test
  void aLongJobSpreadsItsSegmentsOverTwoDevicesAndSoundsAsOnOne() {
    float[] alone;
    try (FoleyEngine one = FoleyEngine.builder().bundle(bundle).backend(new FakeDevice("fake:0", -1))
        .segmentsInFlight(1).build()) {
      Seen seen = new Seen();
      alone = one.submit(request(3), seen).await().toArray();
      seen.assertInOrder(5, 15);
      assertEquals(1, one.stats().devices().size());
      assertEquals(5, one.stats().devices().get(0).segmentsPlaced());
    }
    FakeDevice a = new FakeDevice("fake:0", -1);
    FakeDevice b = new FakeDevice("fake:1", -1);
    try (FoleyEngine two = FoleyEngine.builder().bundle(bundle).devices(a, b).segmentsInFlight(4).build()) {
      Seen seen = new Seen();
      FoleyResult r = two.submit(request(3), seen).await();
      seen.assertInOrder(5, 15);
      double[] d = TestSupport.distance(r.toArray(), alone, alone.length);
      assertTrue(d[0] < 1e-5, "same audio as on one device, segment by segment: relative L2 " + d[0]);
      List<DeviceStats> devices = two.stats().devices();
      assertEquals(List.of("fake:0", "fake:1"), devices.stream().map(DeviceStats::name).toList());
      assertEquals(5, devices.get(0).segmentsPlaced() + devices.get(1).segmentsPlaced());
      assertTrue(devices.get(0).segmentsPlaced() >= 2 && devices.get(1).segmentsPlaced() >= 2,
          "both devices denoised: " + devices);
      assertTrue(devices.get(0).calls() > 0 && devices.get(1).calls() > 0);
      assertTrue(a.denoiserCalls.get() > 0 && b.denoiserCalls.get() > 0);
      assertEquals(0, devices.get(0).segmentsInFlight() + devices.get(1).segmentsInFlight(), "all leases returned");
      assertEquals(2, two.readiness().devices().size());
      assertEquals(-1, two.readiness().devices().get(1).freeMemoryBytes(), "a CPU fake reports no memory");
    }
  }

  @Test
  void oneJobBatchesItsOwnSegmentsWhenSeveralAreInFlight() {
    for (int k : new int[] {1, 4}) {
      FakeDevice dev = new FakeDevice("fake:0", -1);
      // features from a cache, so that every segment is ready at once (decoding paces them otherwise)
      try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(dev).segmentsInFlight(k)
          .featureCache(new CachingTest.MapCache()).maxQueueDelay(Duration.ofMillis(50)).build()) {
        e.generate(request(3)); // fills the feature cache
        dev.resetCounts();
        long[] before = e.stats().batchHistogram().get(Stage.DENOISER);
        e.generate(FoleyRequest.builder(longClip).prompt("door slams, footsteps").steps(3).seed(6).build());
        long[] h = e.stats().batchHistogram().get(Stage.DENOISER);
        long batched = 0;
        for (int i = 2; i < h.length; i++) {
          batched += h[i] - before[i];
        }
        if (k == 1) {
          assertEquals(0, batched, "one segment at a time never forms a batch");
          assertEquals(2, dev.maxDenoiserRows.get(), "a CFG pair per call");
          assertEquals(15, dev.denoiserCalls.get());
        } else {
          assertTrue(batched > 0, "segments of the same job share denoiser calls");
          assertTrue(dev.maxDenoiserRows.get() > 2 && dev.maxDenoiserRows.get() <= 8, "at most 4 pairs: "
              + dev.maxDenoiserRows.get());
          assertTrue(dev.denoiserCalls.get() < 15, "fewer calls than steps × segments: " + dev.denoiserCalls.get());
        }
        // segments in flight share calls: their time counts once, never more than the whole request
        FoleyResult again = e.generate(FoleyRequest.builder(longClip).prompt("door slams, footsteps").steps(3).seed(7)
            .build());
        StageTimings t = again.timings();
        for (StageTimings.Phase p : List.of(StageTimings.Phase.DENOISE, StageTimings.Phase.VAE,
            StageTimings.Phase.TEXT)) {
          assertTrue(t.get(p).compareTo(t.get(StageTimings.Phase.TOTAL)) <= 0, p + " within TOTAL at K=" + k + ": " + t);
        }
      }
    }
  }

  @Test
  void eachDeviceTakesNoMoreSegmentsThanItsMemoryHolds() throws Exception {
    long seg = 10L << 20; // as if measured: 10 MiB per segment in flight
    // budget = 0.9 × free: device 0 holds 1 segment, device 1 holds 3
    FakeDevice a = new FakeDevice("fake:0", (long) (1.5 * seg / Devices.MEMORY_FRACTION));
    FakeDevice b = new FakeDevice("fake:1", (long) (3.5 * seg / Devices.MEMORY_FRACTION));
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).devices(List.of(a, b)).segmentMemoryBytes(seg)
        .segmentsInFlight(4).maxConcurrentRequests(3).maxQueueDelay(Duration.ofMillis(20))
        .featureCache(new CachingTest.MapCache()).build()) {
      assertEquals(1, e.readiness().devices().get(0).segmentCapacity());
      assertEquals(3, e.readiness().devices().get(1).segmentCapacity());
      e.generate(request(1)); // features cached: every job's segments are ready at once
      a.resetCounts();
      b.resetCounts();
      long placed0 = e.stats().devices().get(0).segmentsPlaced() + e.stats().devices().get(1).segmentsPlaced();
      List<FoleyJob> jobs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        jobs.add(e.submit(FoleyRequest.builder(longClip).prompt("rain " + i).steps(3).seed(i).build()));
      }
      int maxA = 0;
      int maxB = 0;
      while (!jobs.stream().allMatch(j -> j.result().isDone())) {
        List<DeviceStats> d = e.stats().devices();
        maxA = Math.max(maxA, d.get(0).segmentsInFlight());
        maxB = Math.max(maxB, d.get(1).segmentsInFlight());
        assertTrue(d.get(0).memoryReservedBytes() <= d.get(0).memoryBudgetBytes());
        assertTrue(d.get(1).memoryReservedBytes() <= d.get(1).memoryBudgetBytes());
        Thread.sleep(2);
      }
      for (FoleyJob j : jobs) {
        j.await();
      }
      assertTrue(maxA <= 1 && maxB <= 3, "in flight at most the capacity: " + maxA + ", " + maxB);
      assertTrue(a.maxDenoiserRows.get() <= 2, "device 0 never batched two segments: " + a.maxDenoiserRows.get());
      assertTrue(b.maxDenoiserRows.get() <= 6, "device 1 at most three pairs: " + b.maxDenoiserRows.get());
      assertTrue(b.maxDenoiserRows.get() > 2, "device 1 did batch");
      List<DeviceStats> d = e.stats().devices();
      assertEquals(15, d.get(0).segmentsPlaced() + d.get(1).segmentsPlaced() - placed0);
      assertTrue(d.get(0).segmentsPlaced() > 0 && d.get(1).segmentsPlaced() > 0, "both devices took segments: " + d);
      assertEquals(1, d.get(0).capacity());
      assertEquals(0, d.get(0).memoryReservedBytes() + d.get(1).memoryReservedBytes());
    }
  }

  @Test
  void aJobWhoseSegmentFitsNoDeviceIsRefusedWithTheNumbersAndOthersRun() {
    FakeDevice small = new FakeDevice("fake:small", 5L << 20);
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(small).segmentMemoryBytes(64L << 20).build()) {
      assertEquals(0, e.readiness().devices().get(0).segmentCapacity());
      FoleyException x = assertThrows(FoleyException.class, () -> e.generate(request(2)));
      assertEquals(FoleyException.Code.REJECTED, x.code());
      assertTrue(x.getMessage().contains("64.0 MiB of device memory per segment"), x.getMessage());
      assertTrue(x.getMessage().contains("fake:small: no segment fits (capacity 0)"), x.getMessage());
      TestSupport.awaitCondition("the job ended", () -> e.stats().runningJobs() == 0);
      assertEquals(0, e.stats().devices().get(0).segmentsPlaced());
    }
  }

  @Test
  void aFailingSegmentFailsItsJobWithItsOwnErrorAndTheEngineGoesOn() throws Exception {
    FakeDevice dev = new FakeDevice("fake:0", -1);
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).name("segfail").backend(dev).segmentsInFlight(4)
        .build()) {
      dev.resetCounts();
      dev.failVaeCall = 2;
      FoleyException x = assertThrows(FoleyException.class, () -> e.generate(request(3)));
      assertEquals(FoleyException.Code.BACKEND_FAILURE, x.code());
      assertTrue(x.getMessage().contains("injected VAE failure"), x.getMessage());
      TestSupport.awaitCondition("leases returned", () -> e.stats().devices().get(0).segmentsInFlight() == 0);
      assertEquals(0, e.stats().inFlightSegments());
      dev.failVaeCall = -1;
      dev.failRetries.set(0);
      assertEquals(bundle.manifest().audio().sampleRate() * 36, e.generate(request(2)).toArray().length);
    }
    TestSupport.joinThreads("foley-segfail-");
  }

  @Test
  void cancellingAJobWithSegmentsInFlightReturnsEveryLease() throws Exception {
    FakeDevice a = new FakeDevice("fake:0", -1);
    FakeDevice b = new FakeDevice("fake:1", -1);
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).name("segcancel").devices(a, b).segmentsInFlight(4)
        .build()) {
      java.util.concurrent.CountDownLatch firstStep = new java.util.concurrent.CountDownLatch(1);
      FoleyJob job = e.submit(request(40), new FoleyListener() {
        @Override
        public void onProgress(Progress p) {
          firstStep.countDown();
        }
      });
      assertTrue(firstStep.await(60, java.util.concurrent.TimeUnit.SECONDS));
      assertTrue(job.cancel());
      TestSupport.awaitCondition("leases returned", () -> e.stats().devices().stream()
          .mapToInt(DeviceStats::segmentsInFlight).sum() == 0 && e.stats().runningJobs() == 0);
      assertEquals(0, e.stats().inFlightSegments());
      assertEquals(bundle.manifest().audio().sampleRate() * 36, e.generate(request(2)).toArray().length);
    }
    TestSupport.joinThreads("foley-segcancel-");
  }

  @Test
  void closingWithoutWaitingStopsEverySegmentInFlightAndFreesEverything() throws Exception {
    FakeDevice a = new FakeDevice("fake:0", -1);
    FakeDevice b = new FakeDevice("fake:1", -1);
    FoleyEngine e = FoleyEngine.builder().bundle(bundle).name("segabort").devices(a, b).segmentsInFlight(4)
        .featureCache(new CachingTest.MapCache()).closeTimeout(Duration.ZERO).build();
    FoleyJob job;
    try {
      e.generate(request(1)); // features cached: the next job's segments all start at once
      java.util.concurrent.CountDownLatch secondChunk = new java.util.concurrent.CountDownLatch(2);
      job = e.submit(request(60), new FoleyListener() {
        @Override
        public void onChunk(AudioChunk c) {
          secondChunk.countDown();
        }

        @Override
        public void onProgress(Progress p) {
          if (p.segmentsDone() >= 1) {
            secondChunk.countDown(); // past the first chunk: several segments are in flight now
          }
        }
      });
      assertTrue(secondChunk.await(60, java.util.concurrent.TimeUnit.SECONDS));
    } finally {
      e.close(); // close timeout 0: the job is failed and its threads interrupted, mid-segment
    }
    FoleyException x = assertThrows(FoleyException.class, job::await);
    assertEquals(FoleyException.Code.CLOSED, x.code(), x.getMessage());
    TestSupport.joinThreads("foley-segabort-"); // request, segment and device threads all ended
    assertEquals(a.opened.get(), a.closed.get(), "every session of device 0 closed, none left under a running call");
    assertEquals(b.opened.get(), b.closed.get(), "every session of device 1 closed");
  }

  @Test
  void aDeviceThatCannotOpenFailsTheBuildAndClosesTheDevicesOpenedBefore() throws Exception {
    FakeDevice good = new FakeDevice("fake:0", -1);
    FakeDevice bad = new FakeDevice("fake:1", -1);
    bad.failOpen = true;
    FoleyException e = assertThrows(FoleyException.class, () -> FoleyEngine.builder().bundle(bundle).name("openfail")
        .devices(good, bad).build().close());
    assertTrue(e.getMessage().contains("fake:1 cannot open"), e.getMessage());
    assertEquals(5, good.opened.get(), "device 0 opened (the devices open in parallel)");
    assertEquals(5, good.closed.get(), "device 0's sessions are closed");
    TestSupport.joinThreads("foley-openfail-"); // the open, load and device threads all end
  }

  @Test
  void batchBucketWarmUpRunsEveryBatchOnEveryDeviceAndIsReported() {
    FakeDevice a = new FakeDevice("fake:0", 512L << 20);
    FakeDevice b = new FakeDevice("fake:1", -1);
    b.engineCached = true;
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).devices(a, b).warmUp(WarmUp.BATCH_BUCKETS)
        .maxBatchSize(4).build()) {
      Readiness r = e.readiness();
      assertEquals(2, r.devices().size());
      for (Readiness.DeviceReadiness d : r.devices()) {
        assertEquals(List.of(2, 4, 6, 8), d.stages().get(Stage.DENOISER).warmUpBatches(), d.name());
        assertEquals(List.of(1, 2, 3, 4), d.stages().get(Stage.VAE_DECODER).warmUpBatches());
        assertEquals(List.of(8), d.stages().get(Stage.VISUAL_ENCODER).warmUpBatches());
        assertTrue(d.stages().get(Stage.DENOISER).warmUpMillis() > 0);
      }
      assertEquals(4, a.denoiserCalls.get(), "one warm-up call per bucket");
      assertEquals(512L << 20, r.devices().get(0).freeMemoryBytes());
      assertTrue(r.devices().get(0).segmentCapacity() > 0);
      assertEquals(-1, r.devices().get(1).segmentCapacity());
      assertTrue(r.modelBytes() > 0);
      assertTrue(r.heapUsedBytes() > 0);
      assertTrue(r.toString().contains("device 1 fake:1: free memory not reported"), r.toString());
      assertEquals(5, r.engineCacheHits(), "device 1's five stages came from an engine cache");
      assertTrue(r.devices().get(1).stages().get(Stage.DENOISER).engineCacheHit());
      assertTrue(!r.devices().get(0).stages().get(Stage.DENOISER).engineCacheHit());
      assertTrue(r.toString().contains("engine cache hit"), r.toString());
    }
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(new FakeDevice("fake:0", -1))
        .warmUp(WarmUp.NONE).build()) {
      assertArrayEquals(new Object[0], e.readiness().stages().get(Stage.DENOISER).warmUpBatches().toArray());
    }
  }

  @Test
  void aDeclaredWorkingMemoryBoundsADevicesSegmentsInsteadOfTheShapeEstimate() throws Exception {
    // the same bundle with the denoiser's working memory declared: 3 x the shape estimate per row
    io.foley4j.bundle.BundleManifest m = bundle.manifest();
    SegmentPlan.Segment seg = new SegmentPlan(m, m.segment().decodedSamples()).largest();
    long shapeEstimate = Devices.segmentBytes(m, seg, 2, 0);
    Path copy = dir.resolve("with-working-memory");
    java.nio.file.Files.createDirectories(copy);
    try (var files = java.nio.file.Files.list(bundle.directory())) {
      for (Path f : files.toList()) {
        java.nio.file.Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    Path manifest = copy.resolve(ModelBundle.MANIFEST);
    com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(manifest))
        .getAsJsonObject();
    o.getAsJsonObject("stages").getAsJsonObject("denoiser").add("workingMemory", com.google.gson.JsonParser.parseString(
        "{\"batch\": 1, \"method\": \"measured\", \"points\": [{\"latents\": " + seg.latents() + ", \"bytes\": "
            + 3 * shapeEstimate + "}]}"));
    java.nio.file.Files.writeString(manifest, o.toString());
    long free = (long) Math.ceil(12.5 * shapeEstimate / Devices.MEMORY_FRACTION); // 12 segments of the estimate
    try (ModelBundle declared = ModelBundle.open(copy)) {
      assertEquals(6 * shapeEstimate, Devices.segmentBytes(declared.manifest(), seg, 2, 0), "a CFG pair's two rows");
      int[] capacity = new int[2];
      int k = 0;
      for (ModelBundle b : new ModelBundle[] {bundle, declared}) {
        try (FoleyEngine e = FoleyEngine.builder().bundle(b).backend(new FakeDevice("fake:0", free)).build()) {
          capacity[k++] = e.readiness().devices().get(0).segmentCapacity();
        }
      }
      assertEquals(12, capacity[0], "the shape estimate");
      assertEquals(2, capacity[1], "the declared working memory: 6 x the estimate a segment");
    }
  }
}
