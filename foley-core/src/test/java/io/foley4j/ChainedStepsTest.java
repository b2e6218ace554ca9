package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.StageTimings.Phase;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The denoise loop chains on the device ({@link StageCalls#chain}): the device's worker submits
 * each next step as the previous one ends, so the steps go on while the job's own thread is busy
 * (here: held in its listener), and the audio is the same bit for bit.
 */
class ChainedStepsTest extends SmallBundleTest {
  private static final int STEPS = 6;


  private static FoleyRequest request() {
    return FoleyRequest.builder(new byte[] {1, 2, 3}).prompt("footsteps on glass").steps(STEPS).seed(11).build();
  }

  /** The denoiser steps (calls with a timestep input) the device ran, counted on its thread. */
  private static final class Steps {
    final AtomicInteger ran = new AtomicInteger();
    final CountDownLatch allRan = new CountDownLatch(STEPS);

    void observe(java.util.Map<String, io.foley4j.backend.Tensor> in) {
      if (in.containsKey("timestep")) {
        ran.incrementAndGet();
        allRan.countDown();
      }
    }
  }

  @Test
  void theDeviceRunsTheNextStepsWhileTheJobsThreadIsHeldAndTheAudioIsTheSame() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    List<long[]> events = Collections.synchronizedList(new ArrayList<>()); // {start 1 / end 0, step}
    FoleyEventListener pairs = new FoleyEventListener() {
      @Override
      public void callStart(long jobId, Phase phase, int segment, int step) {
        if (phase == Phase.DENOISE) {
          events.add(new long[] {1, step});
        }
      }

      @Override
      public void callEnd(long jobId, Phase phase, int segment, int step, long nanos, boolean failed) {
        if (phase == Phase.DENOISE) {
          events.add(new long[] {0, step, nanos, failed ? 1 : 0});
        }
      }
    };
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(backend).videoSources(CLIP.asFactory())
        .eventListener(pairs).maxConcurrentRequests(1).build()) {
      float[] free = e.generate(request()).toArray();
      events.clear();
      Steps steps = new Steps(); // counted from here: the build's warm-up and the first request ran steps too
      backend.observe = (in, out) -> steps.observe(in);

      // the job's thread delivers progress to its listener: hold it there after the first step until
      // the device has run every step. Before the steps chained on the device, the job's thread made
      // each next step itself, so nothing ran while it was held and the wait timed out.
      boolean[] ranWhileHeld = new boolean[1];
      int[] ranBeforeHold = new int[1];
      FoleyJob job = e.submit(request(), new FoleyListener() {
        @Override
        public void onProgress(Progress p) {
          if (p.stepsDone() == 1) {
            ranBeforeHold[0] = steps.ran.get();
            try {
              ranWhileHeld[0] = steps.allRan.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
              Thread.currentThread().interrupt();
            }
          }
        }
      });
      float[] held = job.await().toArray();
      assertTrue(ranWhileHeld[0], "all " + STEPS + " steps ran while the job's thread was held after step 1 ("
          + steps.ran.get() + " ran, " + ranBeforeHold[0] + " when it was held)");
      assertArrayEquals(free, held, "the same audio, bit for bit, whoever made the steps' inputs");

      // the listener still sees each step's start and end in pairs, in order, none failed
      assertEquals(2 * STEPS, events.size(), "one start and one end per step");
      for (int s = 0; s < STEPS; s++) {
        long[] start = events.get(2 * s);
        long[] end = events.get(2 * s + 1);
        assertEquals(1, start[0], "event " + 2 * s + " is a start");
        assertEquals(s, start[1]);
        assertEquals(0, end[0], "event " + (2 * s + 1) + " is an end");
        assertEquals(s, end[1]);
        assertTrue(end[2] >= 0, "a step's time is not negative");
        assertEquals(0, end[3], "no step failed");
      }
    }
  }
}
