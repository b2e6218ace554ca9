package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link WarmUp#FULL}: one synthetic request at build that no cache, listener or later result sees. */
class WarmUpRequestTest {
  static ModelBundle bundle;
  @TempDir
  static Path dir;
  static Path clip;

  @BeforeAll
  static void setUp() {
    bundle = TestSupport.smallReferenceBundle();
    clip = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(3).flash(1, 0.12, 0xFFFFFF).build(), clip);
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  /** Counts every event. */
  static final class Counting extends FoleyEventListener {
    final List<String> seen = new CopyOnWriteArrayList<>();

    @Override
    public void queueStart(long jobId) {
      seen.add("queueStart " + jobId);
    }

    @Override
    public void callStart(long jobId, StageTimings.Phase phase, int segment, int step) {
      seen.add("callStart " + jobId);
    }
  }

  private static long warmUpDirs() throws Exception {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().startsWith("foley-warm-up-")).count();
    }
  }

  @Test
  void theWarmUpRequestRunsTheWholePipelineUnseenAndChangesNoResult() throws Exception {
    FoleyRequest req = FoleyRequest.builder(clip).prompt("glass breaks").steps(3).seed(4).build();
    float[] plain;
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).build()) {
      assertEquals(0, e.readiness().requestWarmUpMillis());
      assertEquals(0, e.diagnostics().backendCalls(), "the stage warm-up runs outside the scheduler");
      plain = e.generate(req).toArray();
    }
    long dirsBefore = warmUpDirs();
    CachingTest.MapCache results = new CachingTest.MapCache();
    CachingTest.MapCache features = new CachingTest.MapCache();
    Counting events = new Counting();
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).warmUp(WarmUp.FULL).resultCache(results)
        .featureCache(features).eventListener(events).build()) {
      Readiness r = e.readiness();
      assertTrue(r.requestWarmUpMillis() > 0, r.toString());
      assertTrue(r.buildMillis() >= r.requestWarmUpMillis());
      assertTrue(e.diagnostics().backendCalls() > 0, "the warm-up request went through the scheduler");
      assertEquals(0, results.puts.get() + results.hits.get() + results.misses.get(), "no result cache use");
      assertEquals(0, features.puts.get() + features.hits.get() + features.misses.get(), "no feature cache use");
      assertEquals(List.of(), events.seen, "the event listener saw nothing of it");
      assertEquals(0, e.stats().runningJobs());
      assertArrayEquals(plain, e.generate(req).toArray(), "the same audio as without the warm-up");
      assertTrue(events.seen.size() > 0, "a real request's events are seen");
    }
    assertEquals(dirsBefore, warmUpDirs(), "it writes no temporary clip: its frames come from memory");
  }

  @Test
  void theWarmUpTakesNoClientsRateLimitToken() {
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).warmUp(WarmUp.FULL).rateLimit(0.001, 1).build()) {
      assertTrue(e.readiness().requestWarmUpMillis() > 0);
      // the anonymous client's only token is still there
      assertEquals(bundle.manifest().audio().sampleRate() * 3, e.generate(FoleyRequest.builder(clip).prompt("x").steps(1)
          .build()).toArray().length);
    }
  }

  @Test
  void theWarmUpClipKeepsWithinMaxVideoDuration() {
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).warmUp(WarmUp.FULL)
        .maxVideoDuration(Duration.ofSeconds(5)).build()) {
      assertTrue(e.readiness().requestWarmUpMillis() > 0, "a 5 s clip instead of 12 s: " + e.readiness());
    }
  }

  @Test
  void aFailedWarmUpRequestIsLoggedAndTheEngineStillServes() throws Exception {
    List<String> warnings = new CopyOnWriteArrayList<>();
    Handler h = new Handler() {
      @Override
      public void publish(LogRecord r) {
        warnings.add(r.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger log = Logger.getLogger("io.foley4j.pipeline");
    log.addHandler(h);
    // the warm-up request's frames come from memory, so its failure is injected at the device: the first call the
    // scheduler makes (the stage warm-up before it runs on the building threads) fails
    InterceptingBackend failingOnce = new InterceptingBackend();
    java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
    failingOnce.fail = (stage, in) -> Thread.currentThread().getName().contains("-device-")
        && failed.compareAndSet(false, true);
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(failingOnce).warmUp(WarmUp.FULL).build()) {
      assertEquals(0, e.readiness().requestWarmUpMillis());
      assertTrue(warnings.stream().anyMatch(w -> w.contains("the warm-up request failed")), warnings.toString());
      assertEquals(bundle.manifest().audio().sampleRate() * 3, e.generate(FoleyRequest.builder(clip).prompt("x").steps(1)
          .build()).toArray().length);
    } finally {
      log.removeHandler(h);
    }
  }
}
