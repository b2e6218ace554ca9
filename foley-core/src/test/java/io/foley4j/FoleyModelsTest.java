package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyModels.ModelInfo;
import io.foley4j.FoleyModels.State;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Several models in one process: loading on first use, the LRU within a budget, jobs in flight, failures. */
class FoleyModelsTest {
  private static final long MODEL = 100;
  private static final Consumer<FoleyEngine.Builder> SETTINGS = b -> b.maxConcurrentRequests(2)
      .videoSources(SyntheticVideo.builder().durationSeconds(2).build().asFactory());

  /** Counts the bundles each model opens. */
  private final Map<String, AtomicInteger> opened = new java.util.concurrent.ConcurrentHashMap<>();

  private FoleyModels.Builder models(String... names) {
    FoleyModels.Builder b = FoleyModels.builder();
    for (String n : names) {
      AtomicInteger count = opened.computeIfAbsent(n, k -> new AtomicInteger());
      b.model(n, () -> {
        count.incrementAndGet();
        return TestSupport.smallReferenceBundle();
      }, SETTINGS, MODEL);
    }
    return b;
  }

  private static FoleyRequest request(long seed) {
    return FoleyRequest.builder(new byte[] {1, 2, 3}).prompt("rain").steps(2).seed(seed).build();
  }

  private static FoleyResult run(FoleyModels m, String model) {
    return m.submit(model, request(1), new FoleyListener() {}).result().join();
  }

  private static Map<String, State> states(FoleyModels m) {
    return m.models().stream().collect(Collectors.toMap(ModelInfo::name, ModelInfo::state));
  }

  private static ModelInfo info(FoleyModels m, String name) {
    return m.models().stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void threeModelsWithRoomForTwoUnloadTheLeastRecentlyUsed() {
    try (FoleyModels m = models("a", "b", "c").memoryBudgetBytes(2 * MODEL + MODEL / 2).build()) {
      assertEquals(Map.of("a", State.UNLOADED, "b", State.UNLOADED, "c", State.UNLOADED), states(m), "nothing loads at build");
      assertEquals(0, m.bytesInUse());
      assertNotNull(run(m, "a"));
      assertNotNull(run(m, "b"));
      assertEquals(2 * MODEL, m.bytesInUse());
      assertNotNull(run(m, "c")); // a is the least recently used
      assertEquals(Map.of("a", State.UNLOADED, "b", State.READY, "c", State.READY), states(m));
      assertEquals(1, info(m, "a").unloads());
      assertNull(info(m, "a").stats());
      assertNotNull(info(m, "b").stats());
      run(m, "b"); // now c is the least recently used
      run(m, "a");
      assertEquals(Map.of("a", State.READY, "b", State.READY, "c", State.UNLOADED), states(m));
      assertEquals(2, opened.get("a").get(), "a loaded again after its unload");
      assertEquals(1, opened.get("b").get(), "b stayed loaded");
      assertEquals(2, info(m, "a").loads());
      assertEquals(2 * MODEL, m.bytesInUse());
    }
  }

  @Test
  void aModelWithAJobInFlightIsNeverUnloaded() throws Exception {
    CountDownLatch atFirstChunk = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    FoleyListener holding = new FoleyListener() {
      @Override
      public void onChunk(AudioChunk chunk) {
        atFirstChunk.countDown();
        try {
          letGo.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (FoleyModels m = models("a", "b").memoryBudgetBytes(MODEL + MODEL / 2).loadWait(Duration.ofMillis(300))
        .build()) {
      FoleyJob held = m.submit("a", request(1), holding);
      assertTrue(atFirstChunk.await(60, TimeUnit.SECONDS));
      assertEquals(1, info(m, "a").jobsInFlight());
      FoleyException refused = assertThrows(FoleyException.class, () -> run(m, "b"));
      assertEquals(FoleyException.Code.REJECTED, refused.code());
      assertTrue(refused.getMessage().contains("jobs in flight"), refused.getMessage());
      assertEquals(State.READY, info(m, "a").state(), "a keeps its model while its job runs");
      assertEquals(0, info(m, "a").unloads());

      // now b waits (no polling) until a's job ends, then a goes
      try (FoleyModels patient = models("x", "y").memoryBudgetBytes(MODEL + MODEL / 2).build()) {
        CountDownLatch xAtChunk = new CountDownLatch(1);
        CountDownLatch xGo = new CountDownLatch(1);
        FoleyJob x = patient.submit("x", request(2), new FoleyListener() {
          @Override
          public void onChunk(AudioChunk chunk) {
            xAtChunk.countDown();
            try {
              xGo.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        });
        assertTrue(xAtChunk.await(60, TimeUnit.SECONDS));
        Future<FoleyResult> y = pool.submit(() -> run(patient, "y"));
        TestSupport.awaitCondition("y waits for room", () -> info(patient, "y").state() == State.LOADING);
        assertEquals(State.READY, info(patient, "x").state());
        xGo.countDown();
        assertNotNull(y.get(60, TimeUnit.SECONDS));
        assertNotNull(x.result().join(), "x's job finished on its own model");
        assertEquals(State.UNLOADED, info(patient, "x").state());
        assertEquals(State.READY, info(patient, "y").state());
      }
      letGo.countDown();
      assertNotNull(held.result().get(60, TimeUnit.SECONDS));
      TestSupport.awaitCondition("a's job is counted out", () -> info(m, "a").jobsInFlight() == 0);
    } finally {
      letGo.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  void concurrentFirstRequestsLoadAModelOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try (FoleyModels m = models("a").build()) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<FoleyResult>> jobs = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        long seed = i;
        jobs.add(pool.submit(() -> {
          start.await();
          return m.submit("a", request(seed), new FoleyListener() {}).result().join();
        }));
      }
      start.countDown();
      for (Future<FoleyResult> f : jobs) {
        assertNotNull(f.get(120, TimeUnit.SECONDS));
      }
      assertEquals(1, opened.get("a").get(), "one bundle opened for six first requests");
      assertEquals(1, info(m, "a").loads());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aModelThatFailsToLoadFailsOnlyItsOwnRequests() {
    AtomicInteger tries = new AtomicInteger();
    Path missing = Path.of("/nonexistent/foley-bundle");
    try (FoleyModels m = models("good")
        .model("bad", () -> {
          tries.incrementAndGet();
          return ModelBundle.open(missing);
        }, SETTINGS, MODEL)
        .retryFailedLoadAfter(Duration.ofHours(1)).build()) {
      FoleyException first = assertThrows(FoleyException.class, () -> run(m, "bad"));
      assertTrue(first.getMessage().contains("foley-bundle"), first.getMessage());
      assertEquals(State.FAILED, info(m, "bad").state());
      assertEquals(first.getMessage(), info(m, "bad").lastError());
      FoleyException again = assertThrows(FoleyException.class, () -> run(m, "bad"));
      assertEquals(first.code(), again.code());
      assertEquals(1, tries.get(), "within retryFailedLoadAfter the error is repeated, not the load");
      assertNotNull(run(m, "good"), "the other model is untouched");
      assertEquals(MODEL, m.bytesInUse(), "the failed load holds no budget");
    }
    try (FoleyModels m = models("good").model("bad", () -> {
      tries.incrementAndGet();
      return ModelBundle.open(missing);
    }, SETTINGS, MODEL).retryFailedLoadAfter(Duration.ZERO).build()) {
      tries.set(0);
      assertThrows(FoleyException.class, () -> run(m, "bad"));
      assertThrows(FoleyException.class, () -> run(m, "bad"));
      assertEquals(2, tries.get(), "with no retry delay each request tries again");
      assertEquals(2, info(m, "bad").failedLoads());
    }
  }

  @Test
  void namesSizesAndClose() {
    FoleyModels m = models("a", "b").defaultModel("b").memoryBudgetBytes(MODEL / 2).build();
    FoleyException unknown = assertThrows(FoleyException.class, () -> run(m, "nope"));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, unknown.code());
    assertTrue(unknown.getMessage().contains("a, b"), unknown.getMessage());
    FoleyException big = assertThrows(FoleyException.class, () -> run(m, "a"));
    assertEquals(FoleyException.Code.REJECTED, big.code());
    assertTrue(big.getMessage().contains("more than the whole memory budget"), big.getMessage());
    assertEquals("b", m.defaultModel());
    m.close();
    FoleyException closed = assertThrows(FoleyException.class,
        () -> m.submit(request(1), new FoleyListener() {}));
    assertEquals(FoleyException.Code.CLOSED, closed.code());

    assertThrows(FoleyException.class, () -> FoleyModels.builder().build());
    assertThrows(FoleyException.class, () -> models("a").model("a", TestSupport::smallReferenceBundle, SETTINGS, 0));
    assertThrows(FoleyException.class, () -> models("a").model("no spaces", TestSupport::smallReferenceBundle,
        SETTINGS, 0));
    assertThrows(FoleyException.class, () -> models("a").defaultModel("z").build());
  }

  @Test
  void withoutAGivenSizeAModelCountsItsBundlesFiles() {
    try (FoleyModels m = FoleyModels.builder().model("a", TestSupport::smallReferenceBundle, SETTINGS, 0).build()) {
      run(m, "a");
      long bytes = info(m, "a").bytes();
      try (ModelBundle same = TestSupport.smallReferenceBundle()) {
        assertEquals(FoleyModels.sizeOf(same.directory()), bytes);
      }
      assertTrue(bytes > 10_000, "the ONNX files count: " + bytes);
      assertEquals(bytes, m.bytesInUse());
    }
  }

  @Test
  void closingUnloadsEveryModel() {
    FoleyModels m = models("a", "b").build();
    run(m, "a");
    run(m, "b");
    assertNotNull(info(m, "a").stats());
    m.close();
    assertEquals(Map.of("a", State.UNLOADED, "b", State.UNLOADED), states(m));
    assertEquals(0, m.bytesInUse());
  }
}
