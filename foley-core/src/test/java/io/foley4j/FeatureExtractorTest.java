package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageContract;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The feature extractor alone: frames from memory, encoders answered by a fake stage-call
 * handle. What it sends each encoder, and how it assembles segments from the answers.
 */
class FeatureExtractorTest extends SmallBundleTest {
  private static BundleManifest m;
  private static final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeAll
  static void open() {
    m = bundle.manifest();
  }

  @AfterAll
  static void close() {
    pool.shutdownNow();
  }

  /** 25 fps grey frames of {@code seconds}; the picture turns white at 1 s. */
  private static final class Frames implements VideoSource {
    final int count;
    int next;
    final AtomicBoolean closed = new AtomicBoolean();
    volatile int gateAt = -1; // next() of this frame waits for the gate
    final java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);

    Frames(double seconds) {
      this.count = (int) Math.round(seconds * 25);
    }

    @Override
    public VideoInfo info() {
      return new VideoInfo(32, 24, "test", count, 25, count, count - 1, 25);
    }

    @Override
    public DecodedFrame next() {
      if (next == count) {
        return null;
      }
      int k = next++;
      if (k == gateAt) {
        try {
          assertTrue(gate.await(30, java.util.concurrent.TimeUnit.SECONDS), "the gate opened");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      byte[] y = new byte[32 * 24];
      Arrays.fill(y, (byte) (k >= 25 ? 235 : 128));
      byte[] u = new byte[16 * 12];
      byte[] v = new byte[16 * 12];
      Arrays.fill(u, (byte) 128);
      Arrays.fill(v, (byte) 128);
      return DecodedFrame.ofYuv420(k, 25, 32, 24, y, u, v, false, false);
    }

    @Override
    public void close() {
      closed.set(true);
    }
  }

  /** Visual features: the mean of each picture's pixels in every channel. */
  private static Map<String, Tensor> visual(FakeStageCalls.Call c) {
    float[] px = c.inputs().get(StageContract.Visual.PIXELS).floats();
    int n = c.rows();
    int per = px.length / n;
    float[] out = new float[n * m.widths().visual()];
    for (int b = 0; b < n; b++) {
      double sum = 0;
      for (int i = 0; i < per; i++) {
        sum += px[b * per + i];
      }
      Arrays.fill(out, b * m.widths().visual(), (b + 1) * m.widths().visual(), (float) (sum / per));
    }
    return Map.of(StageContract.Visual.FEATURES, Tensor.of(out, n, m.widths().visual()));
  }

  private static Map<String, Tensor> sync(FakeStageCalls.Call c) {
    int n = c.rows();
    int t = m.sync().tokensPerWindow();
    float[] out = new float[n * t * m.widths().sync()];
    Arrays.fill(out, 0.5f);
    return Map.of(StageContract.Sync.TOKENS, Tensor.of(out, n, t, m.widths().sync()));
  }

  private static Channel<SegmentFeatures> run(FakeStageCalls calls, Frames frames, SegmentPlan plan,
      AtomicBoolean stopped) {
    Channel<SegmentFeatures> out = new Channel<>(2, stopped::get);
    new FeatureExtractor(FakeStageCalls.pipeline(bundle, 4, 2), calls, new PhaseClock(), stopped::get, plan, frames,
        out).start(pool, pool);
    return out;
  }

  @Test
  void everySegmentsFeaturesInOrderAndEachPictureEncodedOnce() {
    double seconds = 2.0;
    Frames frames = new Frames(seconds);
    SegmentPlan plan = new SegmentPlan(m, SegmentPlan.samplesFor(frames.count, 25, m.audio().sampleRate()),
        (frames.count - 1) / 25.0);
    FakeStageCalls calls = new FakeStageCalls().answer(Stage.VISUAL_ENCODER, FeatureExtractorTest::visual)
        .answer(Stage.SYNC_ENCODER, FeatureExtractorTest::sync);
    Channel<SegmentFeatures> out = run(calls, frames, plan, new AtomicBoolean());
    for (int k = 0; k < plan.count; k++) {
      SegmentFeatures sf = out.take(() -> {});
      assertEquals(k, sf.index());
      SegmentPlan.Segment seg = plan.segment(k);
      assertEquals(seg.visualFrames() * m.widths().visual(), sf.visual().length);
      assertEquals(seg.syncTokens() * m.widths().sync(), sf.sync().length);
      // the grid point at t = i / fps shows the grey picture before 1 s and the white one after
      float grey = sf.visual()[0];
      int white = (int) Math.ceil(1.0 * m.visual().fps());
      assertNotEquals(grey, sf.visual()[white * m.widths().visual()], "the picture changed at 1 s");
      assertEquals(sf.visual()[white * m.widths().visual()], sf.visual()[(seg.visualFrames() - 1) * m.widths().visual()]);
    }
    // at most one row per grid point (repeated frames, such as the padding past the end, reuse features)
    int encoded = calls.of(Stage.VISUAL_ENCODER).stream().mapToInt(FakeStageCalls.Call::rows).sum();
    int gridPoints = 0;
    for (int k = 0; k < plan.count; k++) {
      gridPoints += plan.segment(k).visualFrames();
    }
    assertTrue(encoded >= 2 && encoded <= gridPoints, encoded + " frames encoded for " + gridPoints + " grid points");
    assertTrue(calls.of(Stage.VISUAL_ENCODER).stream().allMatch(c -> c.rows() <= 4), "visual batches of at most 4");
    List<FakeStageCalls.Call> syncCalls = calls.of(Stage.SYNC_ENCODER);
    assertTrue(syncCalls.stream().allMatch(c -> c.rows() <= 2), "sync batches of at most 2 windows");
    // the producer closes the source after it handed over the last segment: wait for it
    TestSupport.awaitCondition("the source is closed when the producer ends", frames.closed::get);
    // the feeder leaves its parties on its way out, just after handing over the last segment
    TestSupport.awaitCondition("every enter has its exit", () -> calls.parties.get(Stage.VISUAL_ENCODER).get() == 0
        && calls.parties.get(Stage.SYNC_ENCODER).get() == 0);
  }

  /**
   * The producer submits each packed batch itself: a batch reaches the device while the encoder task
   * is still waiting for an earlier call. Before, the encoder task submitted them, and while it
   * waited for the first call's result the next batch stayed in the channel, the device idle.
   */
  @Test
  void aPackedBatchIsSubmittedWhileTheEncoderTaskAwaitsAnEarlierCall() throws Exception {
    Frames frames = new Frames(2.0);
    SegmentPlan plan = new SegmentPlan(m, SegmentPlan.samplesFor(frames.count, 25, m.audio().sampleRate()),
        (frames.count - 1) / 25.0);
    FakeStageCalls fake = new FakeStageCalls().answer(Stage.VISUAL_ENCODER, FeatureExtractorTest::visual)
        .answer(Stage.SYNC_ENCODER, FeatureExtractorTest::sync);
    java.util.concurrent.CountDownLatch awaitingFirst = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch releaseFirst = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch secondSubmitted = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger submits = new java.util.concurrent.atomic.AtomicInteger();
    StageCalls calls = new StageCalls() {
      @Override
      public PendingCall submit(Stage stage, StageTimings.Phase phase, Map<String, Tensor> inputs, int rows,
          int segment, int step) {
        PendingCall answer = fake.submit(stage, phase, inputs, rows, segment, step);
        int n = submits.incrementAndGet();
        if (n == 2) {
          secondSubmitted.countDown();
        }
        if (n > 1) {
          return answer;
        }
        return new PendingCall() { // the first call: held until released
          @Override
          Map<String, Tensor> await() {
            awaitingFirst.countDown();
            try {
              assertTrue(releaseFirst.await(30, java.util.concurrent.TimeUnit.SECONDS));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return answer.await();
          }
        };
      }

      @Override
      public void enter(Stage stage) {}

      @Override
      public void exit(Stage stage) {}

      @Override
      public StageCalls on(DeviceScheduler device) {
        return this;
      }
    };
    // the first batch (4 visual frames at 8 fps) is packed by frame 10; the producer then waits at
    // frame 20, before the second is packed, until the encoder task waits for the first call
    frames.gateAt = 20;
    Channel<SegmentFeatures> out = new Channel<>(2, () -> false);
    new FeatureExtractor(FakeStageCalls.pipeline(bundle, 4, 2), calls, new PhaseClock(), () -> false, plan, frames,
        out).start(pool, pool);
    assertTrue(awaitingFirst.await(30, java.util.concurrent.TimeUnit.SECONDS), "the encoder task awaits the first call");
    assertEquals(1, submits.get(), "one batch submitted when the producer resumes");
    frames.gate.countDown();
    assertTrue(secondSubmitted.await(30, java.util.concurrent.TimeUnit.SECONDS),
        "the second batch is submitted while the first call is still held");
    releaseFirst.countDown();
    for (int k = 0; k < plan.count; k++) {
      assertEquals(k, out.take(() -> {}).index());
    }
  }

  @Test
  void anEncoderFailureEndsTheStreamWithIt() {
    Frames frames = new Frames(1.0);
    SegmentPlan plan = new SegmentPlan(m, SegmentPlan.samplesFor(frames.count, 25, m.audio().sampleRate()),
        (frames.count - 1) / 25.0);
    FakeStageCalls calls = new FakeStageCalls().answer(Stage.VISUAL_ENCODER, FeatureExtractorTest::visual);
    AtomicBoolean stopped = new AtomicBoolean();
    Channel<SegmentFeatures> out = run(calls, frames, plan, stopped);
    FoleyException e = assertThrows(FoleyException.class, () -> out.take(() -> {}));
    assertEquals(FoleyException.Code.BACKEND_FAILURE, e.code(), "the sync encoder's failure, as it was");
    stopped.set(true); // what the job's failure does in an engine
    TestSupport.awaitCondition("the producer stops and closes the source", frames.closed::get);
  }
}
