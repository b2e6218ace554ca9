package io.foley4j.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The working arrays each thread reuses between resizes ({@link PilResample.Scratch}): frames of
 * other sizes one after the other, and a decoder's RGB conversion that itself resizes a frame,
 * give the same tensors as each conversion on a fresh thread.
 */
class ResizeScratchTest {
  private static final float[] HALF = {0.5f, 0.5f, 0.5f};

  private static DecodedFrame frame(int w, int h, int colour, DecoderRgb around) {
    DecodedFrame plain = SyntheticVideo.builder().size(w, h).fps(25, 1).durationSeconds(1).background(colour)
        .movingSquare(0, 1, 0x00FF00).build().open().next();
    byte[] rgb = plain.toRgb();
    return DecodedFrame.ofYuv420(0, 25, w, h, plain.yPlane(), plain.uPlane(), plain.vPlane(), false, false, dst -> {
      System.arraycopy(rgb, 0, dst, 0, rgb.length);
      if (around != null) {
        around.writeRgb(dst);
      }
    });
  }

  private static float[] tensor(DecodedFrame f, int size, ResizeMode mode, ResizeFilter filter) {
    float[] t = new float[3 * size * size];
    f.toTensor(size, mode, filter, HALF, HALF, t, 0);
    return t;
  }

  /** The tensor computed on a thread of its own, whose working arrays are new. */
  private static float[] fresh(DecodedFrame f, int size, ResizeMode mode, ResizeFilter filter) throws Exception {
    float[][] out = new float[1][];
    Thread t = new Thread(() -> out[0] = tensor(f, size, mode, filter));
    t.start();
    t.join();
    return out[0];
  }

  @Test
  void framesOfOtherSizesInTurnGiveFreshResults() throws Exception {
    DecodedFrame big = frame(320, 180, 0x202020, null);
    DecodedFrame small = frame(64, 48, 0x804020, null);
    DecodedFrame odd = frame(98, 62, 0x103070, null);
    for (ResizeFilter filter : new ResizeFilter[] {ResizeFilter.PIL_BILINEAR, ResizeFilter.TORCH_BICUBIC,
        ResizeFilter.PIL_BICUBIC}) {
      for (ResizeMode mode : ResizeMode.values()) {
        for (DecodedFrame f : new DecodedFrame[] {big, small, odd, big, odd, small}) {
          for (int size : new int[] {32, 48}) {
            assertArrayEquals(fresh(f, size, mode, filter), tensor(f, size, mode, filter), filter + " " + mode + " "
                + f + " " + size);
          }
        }
      }
    }
  }

  @Test
  void aPictureConvertedOnceServesTheNextResizesOfItsFrameOnly() throws Exception {
    int[] calls = new int[2];
    DecodedFrame a = frame(160, 90, 0x202020, dst -> calls[0]++);
    DecodedFrame b = frame(160, 90, 0x806040, dst -> calls[1]++);
    ResizeFilter[] filters = {ResizeFilter.PIL_BILINEAR, ResizeFilter.TORCH_BICUBIC, ResizeFilter.PIL_BICUBIC};
    for (DecodedFrame f : new DecodedFrame[] {a, a, b, b, a, b}) {
      for (ResizeFilter filter : filters) {
        for (ResizeMode mode : ResizeMode.values()) {
          assertArrayEquals(fresh(f, 40, mode, filter), tensor(f, 40, mode, filter), f + " " + filter + " " + mode);
        }
      }
    }
    // each fresh() thread converts once; this thread converts a, b, a, b: twice each
    int freshPerFrame = 3 * filters.length * ResizeMode.values().length;
    assertEquals(freshPerFrame + 2, calls[0]);
    assertEquals(freshPerFrame + 2, calls[1]);
  }

  @Test
  void aConversionThatResizesAnotherFrameDoesNotDisturbTheOuterOne() throws Exception {
    DecodedFrame inner = frame(160, 90, 0xFFFFFF, null);
    float[] innerSeen = new float[3 * 40 * 40];
    DecodedFrame outer = frame(160, 90, 0x000040, dst -> inner.toTensor(40, ResizeMode.SQUASH,
        ResizeFilter.PIL_BILINEAR, HALF, HALF, innerSeen, 0));
    DecodedFrame plainOuter = frame(160, 90, 0x000040, null);
    float[] want = fresh(plainOuter, 40, ResizeMode.SQUASH, ResizeFilter.PIL_BILINEAR);
    float[] got = tensor(outer, 40, ResizeMode.SQUASH, ResizeFilter.PIL_BILINEAR);
    assertArrayEquals(want, got, "the outer frame's own picture, resized");
    assertArrayEquals(fresh(inner, 40, ResizeMode.SQUASH, ResizeFilter.PIL_BILINEAR), innerSeen);
    assertFalse(Arrays.equals(want, innerSeen), "the two pictures differ, so a mix-up would show");
  }
}
