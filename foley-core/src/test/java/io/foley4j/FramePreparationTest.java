package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link FramePreparation}: the engine's frame producer alone, what it packs and how it fails. */
class FramePreparationTest extends SmallBundleTest {
  private static BundleManifest m;

  @BeforeAll
  static void open() {
    m = bundle.manifest();
  }

  /** A source that counts the frames read and remembers being closed. */
  private static class Counting implements VideoSource {
    final VideoSource inner;
    final AtomicInteger read = new AtomicInteger();
    final AtomicBoolean closed = new AtomicBoolean();

    Counting(VideoSource inner) {
      this.inner = inner;
    }

    @Override
    public VideoInfo info() {
      return inner.info();
    }

    @Override
    public DecodedFrame next() {
      DecodedFrame f = inner.next();
      if (f != null) {
        read.incrementAndGet();
      }
      return f;
    }

    @Override
    public void close() {
      closed.set(true);
      inner.close();
    }
  }

  private static SyntheticVideo video(double seconds) {
    return SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(seconds).movingSquare(0, seconds, 0xFF0000)
        .build();
  }

  @Test
  void packsEveryFrameOfThePlanAndClosesTheSource() {
    Counting src = new Counting(video(10).open());
    FramePreparation.Result r = FramePreparation.run(m, src, 8, 2);
    assertTrue(src.closed.get());
    assertEquals(250, src.read.get(), "every frame is decoded");
    SegmentPlan plan = new SegmentPlan(m, SegmentPlan.samplesFor(250, 25, m.audio().sampleRate()), 249 / 25.0);
    assertEquals(plan.count, r.segments());
    int visual = 0;
    int windows = 0;
    for (int k = 0; k < plan.count; k++) {
      visual += plan.segment(k).visualFrames();
      windows += plan.segment(k).windows();
    }
    assertEquals(visual, r.visualPictures() + r.visualCopies(), r.toString());
    assertEquals(windows, r.syncWindows() + r.syncCopies(), r.toString());
    // a moving square: every 8 fps time on the shared grid is a new picture, at most 80 of them in 10 s
    assertTrue(r.visualPictures() >= 79 && r.visualPictures() <= 81, r.toString());
    long vElems = 3L * m.visual().size() * m.visual().size();
    long sElems = 3L * m.sync().size() * m.sync().size() * m.sync().window();
    assertEquals(r.visualPictures() * vElems + r.syncWindows() * sElems, r.floats(), r.toString());
    assertEquals((r.visualPictures() + 7) / 8, r.visualBatches(), "batches of 8 pictures, the last partial");
    assertTrue(r.decodeNanos() > 0);
  }

  @Test
  void badArgumentsAreInvalidAndTheSourceIsClosed() {
    Counting src = new Counting(video(1).open());
    FoleyException e = assertThrows(FoleyException.class, () -> FramePreparation.run(m, src, 0, 2));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(src.closed.get(), "closed on failure too");
    Counting src2 = new Counting(video(1).open());
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> FramePreparation.run(null, src2, 8, 2)).code());
    assertTrue(src2.closed.get());
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> FramePreparation.run(m, null, 8, 2)).code());
  }

  @Test
  void aSourceThatFailsFailsThePreparationWithItsError() {
    VideoSource inner = video(2).open();
    Counting failing = new Counting(inner) {
      @Override
      public DecodedFrame next() {
        if (read.get() == 20) {
          throw new UnsupportedVideoException(FoleyException.Code.CORRUPT_VIDEO, "broken at frame 20");
        }
        return super.next();
      }
    };
    FoleyException e = assertThrows(FoleyException.class, () -> FramePreparation.run(m, failing, 8, 2));
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code());
    assertTrue(failing.closed.get());
  }
}
