package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission in a whole engine: jobs waiting for memory hold no thread, leave at their deadline or
 * cancel without polling, and start in urgency order.
 */
class AdmissionEngineTest {
  static ModelBundle bundle;
  @TempDir
  static Path dir;
  static Path clip;
  static Path longClip;
  static long oneJob;
  static long longJob;

  @BeforeAll
  static void setUp() {
    bundle = TestSupport.smallReferenceBundle();
    clip = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(3).flash(1, 0.12, 0xFFFFFF)
        .build(), clip);
    longClip = dir.resolve("long.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(20).build(), longClip);
    BundleManifest m = bundle.manifest();
    // what one job of each clip needs with the engine's default encoder batches (8, 2), one segment in flight
    PipelineConfig p = FakeStageCalls.pipeline(bundle, 8, 2);
    long picture = PipelineConfig.pictureBytes(64, 48); // both clips' decoded frames count too
    oneJob = p.memoryNeed(new SegmentPlan(m, SegmentPlan.samplesFor(3, 1, m.audio().sampleRate())), 1, picture);
    longJob = p.memoryNeed(new SegmentPlan(m, SegmentPlan.samplesFor(20, 1, m.audio().sampleRate())), 1, picture);
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  /** Records the order in which jobs make their first denoiser call. */
  static final class FirstCalls extends FoleyEventListener {
    final List<Long> order = new CopyOnWriteArrayList<>();

    @Override
    public void callStart(long jobId, StageTimings.Phase phase, int segment, int step) {
      if (phase == StageTimings.Phase.DENOISE && step == 0 && segment == 0) {
        order.add(jobId);
      }
    }
  }

  private FoleyRequest request(String prompt, int steps, Priority p) {
    return FoleyRequest.builder(clip).prompt(prompt).steps(steps).priority(p).build();
  }

  /** The long clip's job (3 segments). */
  private FoleyRequest longRequest() {
    return FoleyRequest.builder(longClip).prompt("rain").steps(4).build();
  }

  /**
   * Holds its job at its first chunk: the chunk is delivered on the job's own thread, so the job
   * keeps its memory, however fast the machine, until the test lets it go.
   */
  static final class Hold implements FoleyListener {
    final java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
    final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

    @Override
    public void onChunk(AudioChunk c) {
      holding.countDown();
      try {
        release.await(2, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void awaitHolding() throws InterruptedException {
      assertTrue(holding.await(2, TimeUnit.MINUTES), "the held job reached its first chunk");
    }
  }

  /** Room for the long job, but not for a short one beside it. */
  private FoleyEngine.Builder engine() {
    return FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(4).segmentsInFlight(1)
        .memoryBudgetBytes(longJob + oneJob / 2);
  }

  @Test
  void aJobWaitingForMemoryFailsAtItsDeadlineWhileTheOtherRunsOn() throws Exception {
    Hold hold = new Hold();
    try (FoleyEngine engine = engine().build()) {
      FoleyJob running = engine.submit(longRequest(), hold);
      hold.awaitHolding();
      assertEquals(longJob, engine.stats().memoryInUseBytes(), "the first job holds its memory");
      long t0 = System.nanoTime();
      FoleyJob waiting = engine.submit(FoleyRequest.builder(clip).prompt("bell").steps(2)
          .deadline(Duration.ofMillis(700)).build(), null);
      FoleyException e = assertThrows(FoleyException.class, () -> waiting.await());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(FoleyException.Code.DEADLINE_EXCEEDED, e.code());
      assertTrue(ms < 10_000, "failed at its deadline, not when the other job ended: " + ms + " ms");
      assertFalse(running.result().isDone(), "the running job goes on");
      assertEquals(longJob, engine.stats().memoryInUseBytes(), "the waiting job never held memory");
      running.cancel();
      hold.release.countDown();
      TestSupport.awaitCondition("memory returns", () -> engine.stats().memoryInUseBytes() == 0);
    }
  }

  @Test
  void aCancelledWaitingJobLeavesAtOnceAndTheNextStarts() throws Exception {
    Hold hold = new Hold();
    try (FoleyEngine engine = engine().build()) {
      FoleyJob running = engine.submit(longRequest(), hold);
      hold.awaitHolding();
      FoleyJob cancelled = engine.submit(request("bell", 2, Priority.NORMAL), null);
      FoleyJob next = engine.submit(request("footsteps", 2, Priority.NORMAL), null);
      // the first waits for memory, probed; the second waits too: probed beside it, or (admission is strict)
      // queued behind it, depending on whether its probe started before the first's ended
      TestSupport.awaitCondition("both wait", () -> engine.stats().runningJobs() >= 2
          && engine.stats().runningJobs() + engine.stats().queuedJobs() == 3);
      assertTrue(cancelled.cancel());
      running.cancel();
      hold.release.countDown();
      FoleyResult r = next.result().get(2, TimeUnit.MINUTES);
      assertTrue(r.toArray().length > 0);
      assertTrue(cancelled.isCancelled());
      TestSupport.awaitCondition("nothing left", () -> engine.stats().runningJobs() == 0
          && engine.stats().memoryInUseBytes() == 0 && engine.stats().queuedJobs() == 0);
    }
  }

  @Test
  void aLargeHighJobWaitingForMemoryStartsBeforeSmallerLaterJobs() throws Exception {
    FirstCalls calls = new FirstCalls();
    long big = longJob;
    assertTrue(big > oneJob);
    // room for the big job alone, or for two small ones, but not for the big one beside a small one
    long budget = Math.max(big, 2 * oneJob);
    assertTrue(big + oneJob > budget);
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(4).segmentsInFlight(1)
        .memoryBudgetBytes(budget).eventListener(calls).build()) {
      Hold hold = new Hold();
      FoleyJob first = engine.submit(request("rain", 4, Priority.NORMAL), hold);
      hold.awaitHolding();
      assertEquals(1, calls.order.size());
      FoleyJob large = engine.submit(FoleyRequest.builder(longClip).prompt("bell").steps(2).priority(Priority.HIGH)
          .build(), null);
      TestSupport.awaitCondition("the large job is probed and waits", () -> engine.stats().runningJobs() == 2);
      List<FoleyJob> small = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        small.add(engine.submit(request("footsteps " + i, 2, Priority.NORMAL), null));
      }
      Thread.sleep(300);
      assertEquals(1, calls.order.size(), "no small job overtook the waiting HIGH one: " + calls.order);
      first.cancel();
      hold.release.countDown();
      large.await();
      for (FoleyJob s : small) {
        s.await();
      }
      long largeId = calls.order.get(1);
      assertEquals(2, largeId, "the HIGH job (id 2) ran right after the first: " + calls.order);
    }
  }
}
