package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Errors, cancellation, listeners, and the engine's lifecycle. */
class EngineBehaviourTest {
  static ModelBundle bundle;

  @TempDir
  static Path dir;
  static Path good;

  @BeforeAll
  static void setUp() {
    bundle = TestSupport.referenceBundle();
    good = dir.resolve("good.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.12, 0xFFFFFF).build(), good);
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  private static FoleyException failure(FoleyJob job) {
    FoleyException e = assertThrows(FoleyException.class, job::await);
    return e;
  }

  @Test
  void badVideosFailTheirJobWithATypedErrorAndOthersCarryOn() throws Exception {
    Path random = dir.resolve("random.mp4");
    byte[] junk = new byte[50_000];
    new Random(1).nextBytes(junk);
    Files.write(random, junk);
    Path empty = dir.resolve("empty.mp4");
    Files.write(empty, new byte[0]);
    Path truncated = dir.resolve("truncated.mp4");
    byte[] whole = Files.readAllBytes(good);
    Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 3));
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      for (Path bad : List.of(random, empty, truncated)) {
        FoleyException e = failure(engine.submit(FoleyRequest.of(bad, "x")));
        assertInstanceOf(UnsupportedVideoException.class, e, bad + ": " + e);
        assertTrue(e.code() == FoleyException.Code.CORRUPT_VIDEO || e.code() == FoleyException.Code.UNSUPPORTED_VIDEO,
            e.toString());
        assertTrue(e.getMessage().contains(bad.getFileName().toString()), "the message names the file: " + e.getMessage());
      }
      FoleyException missing = failure(engine.submit(FoleyRequest.of(dir.resolve("nope.mp4"), "x")));
      assertEquals(FoleyException.Code.IO, missing.code(), missing.toString());
      // the engine still works
      FoleyResult ok = engine.generate(FoleyRequest.builder(good).prompt("x").steps(3).build());
      assertEquals(96000, ok.sampleCount());
    }
  }

  @Test
  void cancelFailsTheJobAtOnceAndStopsItsWork() throws Exception {
    Path longVideo = dir.resolve("long.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(30).build(), longVideo);
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      CountDownLatch firstStep = new CountDownLatch(1);
      AtomicInteger chunksAfterCancel = new AtomicInteger();
      AtomicInteger failures = new AtomicInteger();
      java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
      FoleyJob job = engine.submit(FoleyRequest.of(longVideo, "x"), new FoleyListener() {
        @Override
        public void onProgress(Progress p) {
          firstStep.countDown();
        }

        @Override
        public void onChunk(AudioChunk c) {
          if (cancelled.get()) {
            chunksAfterCancel.incrementAndGet();
          }
        }

        @Override
        public void onFailure(FoleyException e) {
          failures.incrementAndGet();
        }
      });
      assertTrue(firstStep.await(60, TimeUnit.SECONDS));
      cancelled.set(true);
      assertTrue(job.cancel());
      assertFalse(job.cancel(), "cancel is idempotent");
      assertTrue(job.isCancelled());
      FoleyException e = failure(job);
      assertEquals(FoleyException.Code.CANCELLED, e.code());
      // its work stops: the job's thread ends long before its 5 segments × 25 steps could run
      TestSupport.awaitCondition("the cancelled job's thread ended", () -> engine.stats().runningJobs() == 0);
      long denoiserCalls = java.util.Arrays.stream(engine.stats().batchHistogram().get(Stage.DENOISER)).sum();
      assertTrue(denoiserCalls < 5 * 25, "denoiser calls after cancel: " + denoiserCalls);
      assertEquals(0, chunksAfterCancel.get());
      assertEquals(1, failures.get(), "onFailure exactly once");
      // the engine is free again quickly: a new job completes
      assertEquals(96000, engine.generate(FoleyRequest.builder(good).prompt("x").steps(2).build()).sampleCount());
    }
  }

  @Test
  void listenersThatCancelTheirOwnJobsNeverHangTheEngine() throws Exception {
    Path twoSegments = dir.resolve("two-segments.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(12).flash(2, 0.1, 0xFFFFFF).build(), twoSegments);
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(4).decodeThreads(4)
        .singleFlight(true).build()) {
      List<FoleyJob> jobs = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        FoleyJob[] self = new FoleyJob[1];
        CountDownLatch submitted = new CountDownLatch(1);
        self[0] = engine.submit(FoleyRequest.builder(twoSegments).prompt("x").steps(3).seed(i % 3)
            .deadline(Duration.ofMinutes(5)).build(), new FoleyListener() {
              @Override
              public void onChunk(AudioChunk c) {
                try {
                  submitted.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                self[0].cancel(); // from inside a callback, while other jobs share the device
              }
            });
        submitted.countDown();
        jobs.add(self[0]);
      }
      for (FoleyJob j : jobs) {
        assertEquals(FoleyException.Code.CANCELLED,
            assertThrows(java.util.concurrent.ExecutionException.class, () -> j.result().get(2, TimeUnit.MINUTES))
                .getCause() instanceof FoleyException f ? f.code() : null);
      }
      assertEquals(96000, engine.generate(FoleyRequest.builder(good).prompt("after").steps(2).build()).sampleCount());
    }
  }

  @Test
  void completingTheCallersFutureDoesNotAffectTheJob() throws Exception {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      CountDownLatch delivered = new CountDownLatch(1);
      FoleyJob job = engine.submit(FoleyRequest.builder(good).prompt("x").steps(2).build(), new FoleyListener() {
        @Override
        public void onComplete(FoleyResult r) {
          delivered.countDown();
        }
      });
      job.result().cancel(true); // the caller's copy only
      assertTrue(delivered.await(60, TimeUnit.SECONDS), "the job still ran and completed");
      assertFalse(job.isCancelled());
    }
  }

  @Test
  void aThrowingListenerDoesNotBreakTheJob() {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      List<AudioChunk> seen = new CopyOnWriteArrayList<>();
      FoleyResult r = engine.submit(FoleyRequest.builder(good).prompt("x").steps(3).build(), new FoleyListener() {
        @Override
        public void onChunk(AudioChunk c) {
          seen.add(c);
          throw new IllegalStateException("listener bug");
        }

        @Override
        public void onProgress(Progress p) {
          throw new RuntimeException("another listener bug");
        }
      }).await();
      assertEquals(1, seen.size());
      assertEquals(96000, r.sampleCount());
    }
  }

  @Test
  void closeLeavesNoThreadsAndRejectsNewJobs() throws Exception {
    FoleyEngine engine = FoleyEngine.builder().bundle(bundle).name("leakcheck").maxConcurrentRequests(3).build();
    List<FoleyJob> jobs = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      jobs.add(engine.submit(FoleyRequest.builder(good).prompt("x").steps(2).seed(i).build()));
    }
    engine.close();
    engine.close(); // idempotent
    for (FoleyJob j : jobs) {
      assertTrue(j.result().isDone(), "no future is left pending after close");
    }
    FoleyException e = failure(engine.submit(FoleyRequest.of(good, "x")));
    assertEquals(FoleyException.Code.CLOSED, e.code());
    TestSupport.joinThreads("foley-leakcheck-");
    assertEquals(0, threads("foley-leakcheck-"), "engine threads after close");
  }

  @Test
  void closeTimeoutFailsUnfinishedJobs() throws Exception {
    Path longVideo = dir.resolve("long2.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(40).build(), longVideo);
    FoleyEngine engine = FoleyEngine.builder().bundle(bundle).closeTimeout(Duration.ofMillis(200)).build();
    CountDownLatch running = new CountDownLatch(1);
    FoleyJob job = engine.submit(FoleyRequest.of(longVideo, "x"), new FoleyListener() {
      @Override
      public void onProgress(Progress p) {
        running.countDown();
      }
    });
    assertTrue(running.await(60, TimeUnit.SECONDS), "the job is denoising");
    engine.close();
    FoleyException e = failure(job);
    assertEquals(FoleyException.Code.CLOSED, e.code(), e.toString());
  }

  @Test
  void builderValidates() {
    FoleyEngine.Builder b = FoleyEngine.builder();
    assertThrows(IllegalStateException.class, b::build);
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> FoleyEngine.builder().maxConcurrentRequests(0)).code());
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> FoleyEngine.builder().name("has space")).code());
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> FoleyEngine.builder().maxVideoDuration(Duration.ZERO)).code());
    FoleyEngine.Builder twice = FoleyEngine.builder().maxConcurrentRequests(2);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> twice.maxConcurrentRequests(3));
    assertTrue(e.getMessage().contains("already set to 2"));
    // FoleyRequest's checks are typed (FoleyRequestTest has the details)
    assertThrows(FoleyException.class, () -> FoleyRequest.builder(good).steps(0));
    assertThrows(FoleyException.class, () -> FoleyRequest.builder(good).cfgScale(Double.NaN));
    assertThrows(FoleyException.class, () -> FoleyRequest.builder(good).build());
    assertThrows(FoleyException.class, () -> FoleyRequest.builder((java.nio.file.Path) null));
  }

  @Test
  void guidanceOfOneRunsTheConditionalBranchOnly() {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      FoleyResult r = engine.generate(FoleyRequest.builder(good).prompt("glass").cfgScale(1.0).steps(5).build());
      assertEquals(96000, r.sampleCount());
      FoleyResult g = engine.generate(FoleyRequest.builder(good).prompt("glass").cfgScale(4.5).steps(5).build());
      assertFalse(java.util.Arrays.equals(r.toArray(), g.toArray()), "guidance changes the output");
    }
    // the rows the denoiser and text encoder see: 1 without guidance, 2 (cond, uncond) with it
    java.util.List<Long> denoiserRows = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.List<Long> textRows = new java.util.concurrent.CopyOnWriteArrayList<>();
    InterceptingBackend spy = new InterceptingBackend();
    spy.fail = (stage, in) -> {
      if (stage == Stage.DENOISER) {
        denoiserRows.add(in.get("latents").dim(0));
      } else if (stage == Stage.TEXT_ENCODER) {
        textRows.add(in.get("input_ids").dim(0));
      }
      return false;
    };
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(spy).maxBatchSize(1).build()) {
      denoiserRows.clear(); // warm-up calls
      textRows.clear();
      engine.generate(FoleyRequest.builder(good).prompt("glass").cfgScale(1.0).steps(5).build());
      assertEquals(java.util.Collections.nCopies(5, 1L), denoiserRows, "unguided: one row per step");
      assertEquals(java.util.List.of(1L), textRows);
      denoiserRows.clear();
      textRows.clear();
      engine.generate(FoleyRequest.builder(good).prompt("glass").cfgScale(4.5).steps(5).build());
      assertEquals(java.util.Collections.nCopies(5, 2L), denoiserRows, "guided: a CFG pair per step");
      assertEquals(java.util.List.of(2L), textRows);
      // HunyuanVideo-Foley's rule (the reference bundle's): below 1 is no guidance either
      denoiserRows.clear();
      textRows.clear();
      engine.generate(FoleyRequest.builder(good).prompt("glass").cfgScale(0.5).steps(5).build());
      assertEquals(java.util.Collections.nCopies(5, 1L), denoiserRows, "cfg 0.5: conditional only, as in HVF");
      assertEquals(java.util.List.of(1L), textRows);
    }
  }

  private static long threads(String prefix) {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix) && t.isAlive()).count();
  }
}
