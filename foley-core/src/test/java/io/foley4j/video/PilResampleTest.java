package io.foley4j.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The PIL-equivalent resampler without Python: its invariants (PilResizeTest compares with PIL). */
class PilResampleTest {
  private static final int ONE = 1 << PilResample.PRECISION_BITS;

  private static final int[][] AXES = {
    {1920, 512}, {1280, 512}, {1080, 512}, {720, 512}, {240, 512}, {320, 512}, {1280, 398}, {720, 224},
    {1080, 224}, {1920, 398}, {7, 3}, {3, 7}, {1, 5}, {5, 1}, {512, 512}, {2, 1}
  };

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void weightsOfEveryOutputSumToOne(boolean bicubic) {
    for (int[] a : AXES) {
      PilResample.Coeffs c = PilResample.coeffs(a[0], a[1], 0, a[1], bicubic);
      for (int i = 0; i < c.size; i++) {
        double sum = 0;
        long fixed = 0;
        assertTrue(c.count[i] >= 1 && c.count[i] <= c.ksize, a[0] + "->" + a[1] + " output " + i);
        assertTrue(c.min[i] >= 0 && c.min[i] + c.count[i] <= a[0]);
        for (int x = 0; x < c.count[i]; x++) {
          sum += c.weights[i * c.ksize + x];
          fixed += c.k[i * c.ksize + x];
        }
        assertEquals(1.0, sum, 1e-12, a[0] + "->" + a[1] + " output " + i);
        // each fixed-point weight is rounded on its own: off by at most half a unit per tap
        assertTrue(Math.abs(fixed - ONE) <= c.count[i], a[0] + "->" + a[1] + " output " + i + ": " + fixed);
      }
    }
  }

  @Test
  void antialiasingWidensTheSupportWhenShrinking() {
    // 1920 -> 512 is a factor 3.75: the triangle spans 2 * 3.75 source pixels, the cubic twice that
    assertEquals(2 * 4 + 1, PilResample.coeffs(1920, 512, 0, 512, false).ksize);
    assertEquals(2 * 8 + 1, PilResample.coeffs(1920, 512, 0, 512, true).ksize);
    assertEquals(3, PilResample.coeffs(320, 512, 0, 512, false).ksize);
    assertEquals(5, PilResample.coeffs(320, 512, 0, 512, true).ksize);
    PilResample.Coeffs c = PilResample.coeffs(1920, 512, 0, 512, false);
    assertTrue(c.count[256] >= 7, "interior output reads about 7.5 source pixels: " + c.count[256]);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void equalSizeIsTheIdentity(boolean bicubic) {
    Random r = new Random(7);
    int w = 37;
    int h = 23;
    byte[] rgb = new byte[3 * w * h];
    r.nextBytes(rgb);
    byte[] out = PilResample.resize(rgb, w, h, w, h, bicubic);
    assertArrayEquals(planar(rgb, w, h), out);
    // and the taps themselves are a unit impulse, so running the pass would change nothing either
    PilResample.Coeffs c = PilResample.coeffs(w, w, 0, w, bicubic);
    assertTrue(c.identity);
    for (int i = 0; i < w; i++) {
      for (int x = 0; x < c.count[i]; x++) {
        assertEquals(c.min[i] + x == i ? ONE : 0, c.k[i * c.ksize + x], "output " + i + " tap " + x);
      }
    }
    // one axis changes, the other is copied
    byte[] half = PilResample.resize(rgb, w, h, w, 11, bicubic);
    assertEquals(3 * w * 11, half.length);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void constantImageStaysConstant(boolean bicubic) {
    int[][] sizes = {{1920, 1080, 512, 512}, {320, 240, 512, 512}, {1280, 720, 398, 224}, {5, 3, 17, 2}};
    for (int value : new int[] {0, 1, 77, 128, 254, 255}) {
      for (int[] s : sizes) {
        byte[] rgb = new byte[3 * s[0] * s[1]];
        for (int i = 0; i < rgb.length; i += 3) {
          rgb[i] = (byte) value;
          rgb[i + 1] = (byte) (255 - value);
          rgb[i + 2] = (byte) (value / 2);
        }
        byte[] out = PilResample.resize(rgb, s[0], s[1], s[2], s[3], bicubic);
        int plane = s[2] * s[3];
        for (int i = 0; i < plane; i++) {
          assertEquals(value, out[i] & 0xff, "R at " + i + " of " + java.util.Arrays.toString(s));
          assertEquals(255 - value, out[plane + i] & 0xff);
          assertEquals(value / 2, out[2 * plane + i] & 0xff);
        }
      }
    }
  }

  @Test
  void bicubicRingingIsClamped() {
    // a hard 0/255 step, upscaled 8 -> 64 in x: the cubic's negative lobes overshoot on both sides
    int w = 8;
    int h = 2;
    byte[] rgb = new byte[3 * w * h];
    for (int y = 0; y < h; y++) {
      for (int x = w / 2; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          rgb[3 * (y * w + x) + c] = (byte) 255;
        }
      }
    }
    int ow = 64;
    PilResample.Coeffs c = PilResample.coeffs(w, ow, 0, ow, true);
    double lo = 0;
    double hi = 255;
    int overshoots = 0;
    int undershoots = 0;
    byte[] out = PilResample.resize(rgb, w, h, ow, h, true);
    for (int i = 0; i < ow; i++) {
      double s = 0;
      for (int x = 0; x < c.count[i]; x++) {
        s += c.weights[i * c.ksize + x] * (c.min[i] + x >= w / 2 ? 255 : 0);
      }
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
      int got = out[i] & 0xff;
      if (s > 255.5) {
        overshoots++;
        assertEquals(255, got, "overshoot at " + i + " (" + s + ") is clamped");
      } else if (s < -0.5) {
        undershoots++;
        assertEquals(0, got, "undershoot at " + i + " (" + s + ") is clamped");
      } else {
        assertEquals(s, got, 1.0, "output " + i);
      }
    }
    assertTrue(hi > 260 && lo < -5, "the filter rings: " + lo + " .. " + hi);
    assertTrue(overshoots > 0 && undershoots > 0);
    // the bilinear triangle never rings
    byte[] tri = PilResample.resize(rgb, w, h, ow, h, false);
    for (int i = 1; i < ow; i++) {
      assertTrue((tri[i] & 0xff) >= (tri[i - 1] & 0xff), "monotone at " + i);
    }
  }

  @Test
  void torchvisionGeometry() {
    assertArrayEquals(new int[] {398, 224}, PilResample.shortSideSize(1280, 720, 224)); // 398.22 truncated
    assertArrayEquals(new int[] {398, 224}, PilResample.shortSideSize(1920, 1080, 224));
    assertArrayEquals(new int[] {298, 224}, PilResample.shortSideSize(320, 240, 224)); // 298.67 truncated
    assertArrayEquals(new int[] {224, 398}, PilResample.shortSideSize(720, 1280, 224));
    assertArrayEquals(new int[] {224, 224}, PilResample.shortSideSize(500, 500, 224));
    assertArrayEquals(new int[] {512, 910}, PilResample.shortSideSize(720, 1280, 512)); // 910.22
    assertEquals(87, PilResample.cropOffset(398, 224));
    assertEquals(37, PilResample.cropOffset(298, 224));
    assertEquals(0, PilResample.cropOffset(224, 224));
    assertEquals(0, PilResample.cropOffset(225, 224)); // round(0.5) = 0 in Python
    assertEquals(2, PilResample.cropOffset(227, 224)); // round(1.5) = 2
    assertEquals(2, PilResample.cropOffset(229, 224)); // round(2.5) = 2
  }

  @Test
  void centreCropReadsOnlyTheCroppedColumnsButMatchesAFullResize() {
    Random r = new Random(3);
    int w = 160;
    int h = 90;
    byte[] rgb = new byte[3 * w * h];
    r.nextBytes(rgb);
    for (boolean bicubic : new boolean[] {false, true}) {
      int[] rs = PilResample.shortSideSize(w, h, 56);
      byte[] full = PilResample.resize(rgb, w, h, rs[0], rs[1], bicubic);
      byte[] crop = new byte[3 * 56 * 56];
      PilResample.resizeSquare((y, line, x0, x1) -> {
        assertTrue(x0 > 0 && x1 < w, "a centre crop of a wide picture reads only middle columns");
        System.arraycopy(rgb, 3 * (w * y + x0), line, 3 * x0, 3 * (x1 - x0));
      }, w, h, 56,
          true, bicubic, crop);
      int left = PilResample.cropOffset(rs[0], 56);
      int top = PilResample.cropOffset(rs[1], 56);
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < 56; y++) {
          for (int x = 0; x < 56; x++) {
            assertEquals(full[c * rs[0] * rs[1] + (y + top) * rs[0] + x + left],
                crop[c * 56 * 56 + y * 56 + x]);
          }
        }
      }
    }
  }

  @Test
  void weightTablesAreReused() {
    assertSame(PilResample.coeffs(1920, 512, 0, 512, true), PilResample.coeffs(1920, 512, 0, 512, true));
    assertThrows(IllegalArgumentException.class, () -> PilResample.coeffs(10, 5, 3, 3, false));
  }

  @Test
  void pilFiltersOnDecodedFrameKeepAConstantColourAndNormalise() {
    // 4:2:0 planes of one grey: the RGB picture is that grey everywhere, and so is every resize
    int w = 96;
    int h = 54;
    byte[] y = new byte[w * h];
    byte[] u = new byte[48 * 27];
    byte[] v = new byte[48 * 27];
    java.util.Arrays.fill(y, (byte) 126);
    java.util.Arrays.fill(u, (byte) 128);
    java.util.Arrays.fill(v, (byte) 128);
    DecodedFrame f = new DecodedFrame(0, 1, w, h, y, u, v, false, true);
    byte[] rgb = f.toRgb();
    assertEquals(3 * w * h, rgb.length);
    for (byte b : rgb) {
      assertEquals(126, b & 0xff);
    }
    for (ResizeFilter filter : ResizeFilter.values()) {
      for (ResizeMode mode : ResizeMode.values()) {
        int size = 40;
        float[] t = new float[2 + 3 * size * size];
        t[0] = 42f;
        f.toTensor(size, mode, filter, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f}, t, 2);
        assertEquals(42f, t[0]);
        for (int i = 2; i < t.length; i++) {
          assertEquals(126 / 255f / 0.5f - 1f, t[i], 1e-5, filter + " " + mode + " at " + i);
        }
      }
    }
    assertThrows(FoleyException.class, () -> f.toTensor(4, ResizeMode.SQUASH, null, new float[3],
        new float[] {1, 1, 1}, new float[48], 0));
  }

  static byte[] planar(byte[] rgb, int w, int h) {
    int plane = w * h;
    byte[] p = new byte[3 * plane];
    for (int i = 0; i < plane; i++) {
      p[i] = rgb[3 * i];
      p[plane + i] = rgb[3 * i + 1];
      p[2 * plane + i] = rgb[3 * i + 2];
    }
    return p;
  }
}
