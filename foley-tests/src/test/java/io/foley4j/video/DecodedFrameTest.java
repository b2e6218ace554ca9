package io.foley4j.video;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.foley4j.FoleyException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DecodedFrameTest {
  @TempDir Path tmp;

  private static final float[] HALF = {0.5f, 0.5f, 0.5f};

  private static void assertPlane(float[] t, int off, int size, int c, float want, float tol) {
    int plane = size * size;
    for (int i = 0; i < plane; i++) {
      float v = t[off + c * plane + i];
      if (Math.abs(v - want) > tol) {
        throw new AssertionError("channel " + c + " pixel " + i + " = " + v + ", want " + want);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(ResizeMode.class)
  void redFrameIsRedInBothModes(ResizeMode mode) {
    Path p = tmp.resolve("red.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(96, 48).durationSeconds(0.2).background(0xff0000).build(), p);
    try (VideoSource s = JcodecVideoSources.jcodec().open(p)) {
      DecodedFrame f = s.next();
      assertEquals(96, f.width());
      assertEquals(48, f.height());
      int size = 24;
      float[] t = new float[5 + 3 * size * size];
      Arrays.fill(t, 99f);
      f.toTensor(size, mode, HALF, HALF, t, 5);
      assertEquals(99f, t[4], "nothing written before offset");
      assertPlane(t, 5, size, 0, 1f, 0.05f);
      assertPlane(t, 5, size, 1, -1f, 0.05f);
      assertPlane(t, 5, size, 2, -1f, 0.05f);
    }
  }

  /** 64x32: 16 green columns, 32 red columns, 16 blue columns. */
  private static DecodedFrame stripes(boolean bt709, boolean full) {
    int w = 64;
    int h = 32;
    byte[] y = new byte[w * h];
    byte[] u = new byte[32 * 16];
    byte[] v = new byte[32 * 16];
    for (int r = 0; r < h; r++) {
      for (int c = 0; c < w; c++) {
        int rgb = c < 16 ? 0x00ff00 : c < 48 ? 0xff0000 : 0x0000ff;
        int[] yuv = yuv(rgb, bt709, full);
        y[r * w + c] = (byte) yuv[0];
        if (r % 2 == 0 && c % 2 == 0) {
          u[(r / 2) * 32 + c / 2] = (byte) yuv[1];
          v[(r / 2) * 32 + c / 2] = (byte) yuv[2];
        }
      }
    }
    return new DecodedFrame(0, 1, w, h, y, u, v, bt709, full);
  }

  static int[] yuv(int rgb, boolean bt709, boolean full) {
    double kr = bt709 ? 0.2126 : 0.299;
    double kb = bt709 ? 0.0722 : 0.114;
    double r = ((rgb >> 16) & 0xff) / 255.0;
    double g = ((rgb >> 8) & 0xff) / 255.0;
    double b = (rgb & 0xff) / 255.0;
    double yy = kr * r + (1 - kr - kb) * g + kb * b;
    double pb = (b - yy) / (2 * (1 - kb));
    double pr = (r - yy) / (2 * (1 - kr));
    if (full) {
      return new int[] {clamp(yy * 255), clamp(128 + pb * 255), clamp(128 + pr * 255)};
    }
    return new int[] {clamp(16 + yy * 219), clamp(128 + pb * 224), clamp(128 + pr * 224)};
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  @Test
  void centerCropKeepsTheMiddleAndSquashKeepsEverythingForEachMatrixAndRange() {
    float[] zero = {0, 0, 0};
    float[] one = {1, 1, 1};
    for (boolean bt709 : new boolean[] {false, true}) {
      for (boolean full : new boolean[] {false, true}) {
        DecodedFrame f = stripes(bt709, full);
        int size = 8;
        float[] t = new float[3 * size * size];
        f.toTensor(size, ResizeMode.CENTER_CROP, zero, one, t, 0);
        assertPlane(t, 0, size, 0, 1f, 0.03f);
        assertPlane(t, 0, size, 1, 0f, 0.03f);
        assertPlane(t, 0, size, 2, 0f, 0.03f);

        f.toTensor(size, ResizeMode.SQUASH, zero, one, t, 0);
        int plane = size * size;
        for (int r = 0; r < size; r++) {
          assertEquals(1f, t[plane + r * size], 0.03f, "green at left " + bt709 + full);
          assertEquals(0f, t[r * size], 0.03f);
          assertEquals(1f, t[2 * plane + r * size + 7], 0.03f, "blue at right");
          assertEquals(1f, t[r * size + 3], 0.03f, "red in the middle");
          assertEquals(1f, t[r * size + 4], 0.03f);
        }
      }
    }
  }

  @Test
  void meanAndStdAreApplied() {
    DecodedFrame f = stripes(false, false);
    float[] t = new float[3];
    f.toTensor(1, ResizeMode.CENTER_CROP, new float[] {0.25f, 0.5f, 0.75f},
        new float[] {0.5f, 2f, 0.25f}, t, 0);
    assertEquals((1 - 0.25f) / 0.5f, t[0], 0.03f);
    assertEquals((0 - 0.5f) / 2f, t[1], 0.03f);
    assertEquals((0 - 0.75f) / 0.25f, t[2], 0.1f);
  }

  @Test
  void badArgumentsAreRejected() {
    DecodedFrame f = stripes(false, false);
    float[] dst = new float[3 * 4 * 4];
    FoleyException e = assertThrows(FoleyException.class,
        () -> f.toTensor(4, ResizeMode.SQUASH, HALF, HALF, dst, 1));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertThrows(FoleyException.class, () -> f.toTensor(0, ResizeMode.SQUASH, HALF, HALF, dst, 0));
    assertThrows(FoleyException.class,
        () -> f.toTensor(4, ResizeMode.SQUASH, new float[2], HALF, dst, 0));
    assertThrows(FoleyException.class,
        () -> f.toTensor(4, ResizeMode.SQUASH, HALF, new float[3], dst, 0));
    assertThrows(FoleyException.class, () -> f.toTensor(4, null, HALF, HALF, dst, 0));
  }

  @Test
  void planesAreCopies() {
    DecodedFrame f = stripes(false, false);
    byte[] y = f.yPlane();
    y[0] = 0;
    assertEquals(yuv(0x00ff00, false, false)[0], f.yPlane()[0] & 0xff);
  }
}
