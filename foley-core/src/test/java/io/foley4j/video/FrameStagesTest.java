package io.foley4j.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.foley4j.FoleyException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link FrameStages}: what a conversion counts while it is active, and that it changes no output. */
class FrameStagesTest {
  private static final float[] HALF = {0.5f, 0.5f, 0.5f};

  private static DecodedFrame frame(boolean decoderRgb) {
    DecodedFrame plain = SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(1)
        .movingSquare(0, 1, 0x00FF00).build().open().next();
    if (!decoderRgb) {
      return plain;
    }
    byte[] rgb = plain.toRgb();
    return DecodedFrame.ofYuv420(plain.ptsTicks(), plain.timescale(), 64, 48, plain.yPlane(), plain.uPlane(),
        plain.vPlane(), plain.isBt709(), plain.isFullRange(), dst -> System.arraycopy(rgb, 0, dst, 0, rgb.length));
  }

  @Test
  void countsEachStageOfTheCallingThreadAndNothingElse() throws Exception {
    DecodedFrame f = frame(true);
    float[] before = new float[3 * 32 * 32];
    f.toTensor(32, ResizeMode.SQUASH, ResizeFilter.PIL_BILINEAR, HALF, HALF, before, 0);
    AtomicLong ticks = new AtomicLong();
    FrameStages st = FrameStages.start(() -> ticks.addAndGet(10));
    float[] during = new float[before.length];
    try {
      // other frames of the same picture: the last one converted is not converted again (below)
      frame(true).toTensor(32, ResizeMode.SQUASH, ResizeFilter.PIL_BILINEAR, HALF, HALF, during, 0);
      frame(true).toTensor(16, ResizeMode.CENTER_CROP, ResizeFilter.TORCH_BICUBIC, HALF, HALF,
          new float[3 * 16 * 16], 0);
      f.toTensor(16, ResizeMode.SQUASH, HALF, HALF, new float[3 * 16 * 16], 0); // bilinear-2tap
      Thread other = new Thread(() -> f.toTensor(16, ResizeMode.SQUASH, ResizeFilter.PIL_BICUBIC, HALF, HALF,
          new float[3 * 16 * 16], 0));
      other.start();
      other.join();
    } finally {
      st.stop();
    }
    f.toTensor(16, ResizeMode.SQUASH, ResizeFilter.PIL_BICUBIC, HALF, HALF, new float[3 * 16 * 16], 0); // after stop
    assertArrayEquals(before, during, "counting changes nothing");
    assertEquals(2, st.rgbFrames(), "the two antialiased conversions used the decoder's RGB");
    assertEquals(1, st.resizeFrames(ResizeFilter.PIL_BILINEAR));
    assertEquals(1, st.resizeFrames(ResizeFilter.TORCH_BICUBIC));
    assertEquals(1, st.resizeFrames(ResizeFilter.BILINEAR_2TAP));
    assertEquals(0, st.resizeFrames(ResizeFilter.PIL_BICUBIC), "another thread's and later conversions do not count");
    // each antialiased conversion reads the clock 4 times (3 intervals of 10), bilinear-2tap twice (one)
    assertEquals(20, st.rgbNanos());
    assertEquals(10, st.resizeNanos(ResizeFilter.PIL_BILINEAR));
    assertEquals(10, st.resizeNanos(ResizeFilter.BILINEAR_2TAP));
    assertEquals(20, st.normaliseNanos());
    assertEquals(100, ticks.get(), "10 clock reads in all (4 + 4 + 2)");
  }

  @Test
  void aFrameResizedAgainRightAfterIsConvertedOnce() {
    DecodedFrame f = frame(true);
    DecodedFrame g = frame(true);
    FrameStages st = FrameStages.start(() -> 0);
    try {
      f.toTensor(32, ResizeMode.SQUASH, ResizeFilter.PIL_BILINEAR, HALF, HALF, new float[3 * 32 * 32], 0);
      f.toTensor(16, ResizeMode.CENTER_CROP, ResizeFilter.TORCH_BICUBIC, HALF, HALF, new float[3 * 16 * 16], 0);
      g.toTensor(16, ResizeMode.CENTER_CROP, ResizeFilter.TORCH_BICUBIC, HALF, HALF, new float[3 * 16 * 16], 0);
      f.toTensor(16, ResizeMode.SQUASH, ResizeFilter.PIL_BICUBIC, HALF, HALF, new float[3 * 16 * 16], 0);
    } finally {
      st.stop();
    }
    assertEquals(3, st.rgbFrames(), "f, g, then f again: the second use of f in a row reuses its picture");
    assertEquals(2, st.resizeFrames(ResizeFilter.TORCH_BICUBIC));
  }

  @Test
  void ownRgbCountsInsideTheResize() {
    DecodedFrame f = frame(false);
    FrameStages st = FrameStages.start(() -> 0);
    try {
      f.toTensor(16, ResizeMode.SQUASH, ResizeFilter.PIL_BILINEAR, HALF, HALF, new float[3 * 16 * 16], 0);
    } finally {
      st.stop();
    }
    assertEquals(0, st.rgbFrames());
    assertEquals(1, st.resizeFrames(ResizeFilter.PIL_BILINEAR));
  }

  @Test
  void startingTwiceOrWithoutAClockIsInvalid() {
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> FrameStages.start(null)).code());
    FrameStages st = FrameStages.start(() -> 0);
    try {
      assertEquals(FoleyException.Code.INVALID_ARGUMENT,
          assertThrows(FoleyException.class, () -> FrameStages.start(() -> 0)).code());
    } finally {
      st.stop();
      st.stop(); // idempotent
    }
    FrameStages.start(() -> 0).stop(); // free again after stop
  }
}
