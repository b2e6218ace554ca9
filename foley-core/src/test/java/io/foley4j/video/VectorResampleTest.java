package io.foley4j.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Vector API horizontal pass ({@link VectorResample}) gives the scalar pass's bytes, which the
 * PIL and torch tests compare with the libraries themselves: every antialiased filter, squashed and
 * centre-cropped, shrinking and enlarging, odd sizes, pictures narrower than one 8-byte step and
 * heights that leave a short last block of rows. foley-core's tests run with {@code --add-modules
 * jdk.incubator.vector}, so the default path in them is the vector one.
 */
class VectorResampleTest {
  private static final ResizeFilter[] FILTERS = {ResizeFilter.PIL_BILINEAR, ResizeFilter.PIL_BICUBIC,
      ResizeFilter.TORCH_BICUBIC};

  private static PilResample.Simd simd() {
    PilResample.Simd s = PilResample.SIMD;
    assertNotNull(s, "surefire starts foley-core's tests with --add-modules jdk.incubator.vector on x86-64"
        + " (8 or more int lanes): " + FrameStages.resizePath());
    return s;
  }

  private static byte[] picture(int w, int h, long seed) {
    byte[] rgb = new byte[3 * w * h];
    Random r = new Random(seed);
    r.nextBytes(rgb);
    for (int i = 0; i < rgb.length; i += 97) { // runs of extremes, where the cubic over- and undershoots
      rgb[i] = (byte) ((i / 97) % 2 == 0 ? 0 : 255);
    }
    return rgb;
  }

  @Test
  void theDefaultPathInTheseTestsIsTheVectorOne() {
    assertEquals("io.foley4j.video.VectorResample", simd().getClass().getName());
    assertEquals(simd().describe(), FrameStages.resizePath());
    assertTrue(FrameStages.resizePath().startsWith("Vector API, "), FrameStages.resizePath());
  }

  @Test
  void squaresAreTheScalarBytes() {
    PilResample.Simd simd = simd();
    // portrait crops too: rows cut at both ends, a short last block inside the picture
    int[][] sizes = {{1920, 1080}, {1080, 1920}, {321, 181}, {181, 321}, {98, 62}, {62, 99}, {37, 23}, {23, 37}, {7, 5},
        {2, 3}, {1, 1}, {640, 17}};
    int[] outs = {224, 64, 33, 9, 1};
    PilResample.Scratch sc = new PilResample.Scratch();
    long seed = 1;
    for (int[] wh : sizes) {
      int w = wh[0];
      int h = wh[1];
      byte[] rgb = picture(w, h, seed++);
      PilResample.Picture pic = new PilResample.Picture(rgb, w);
      for (int size : outs) {
        if ((w >= 1000 || h >= 1000) && size < 33) {
          continue; // enough of the big ones
        }
        for (ResizeFilter f : FILTERS) {
          for (boolean crop : new boolean[] {false, true}) {
            byte[] scalar = new byte[3 * size * size];
            byte[] vector = new byte[3 * size * size];
            PilResample.resizeSquare(pic, w, h, size, crop, f, scalar, sc, null);
            PilResample.resizeSquare(pic, w, h, size, crop, f, vector, sc, simd);
            assertArrayEquals(scalar, vector, w + "x" + h + " -> " + size + " " + f + (crop ? " crop" : ""));
          }
        }
      }
    }
  }

  @Test
  void rectanglesAndEnlargementsAreTheScalarBytes() {
    PilResample.Simd simd = simd();
    int[][] cases = {{64, 48, 512, 512}, {97, 61, 200, 33}, {1920, 1080, 512, 512}, {1920, 1080, 398, 224},
        {33, 200, 97, 15}, {50, 40, 50, 17}, {9, 35, 4, 35}};
    PilResample.Scratch sc = new PilResample.Scratch();
    boolean sawVector = false;
    for (int[] c : cases) {
      byte[] rgb = picture(c[0], c[1], c[2] * 31L + c[3]);
      PilResample.Picture pic = new PilResample.Picture(rgb, c[0]);
      for (ResizeFilter f : FILTERS) {
        PilResample.Coeffs hc = PilResample.coeffs(c[0], c[2], 0, c[2], f);
        PilResample.Coeffs vc = PilResample.coeffs(c[1], c[3], 0, c[3], f);
        sawVector |= !hc.identity && !vc.identity;
        byte[] scalar = new byte[3 * c[2] * c[3]];
        byte[] vector = new byte[scalar.length];
        PilResample.resample(pic, c[0], c[1], hc, vc, 0, 0, scalar, sc, null);
        PilResample.resample(pic, c[0], c[1], hc, vc, 0, 0, vector, sc, simd);
        assertArrayEquals(scalar, vector, c[0] + "x" + c[1] + " -> " + c[2] + "x" + c[3] + " " + f);
      }
    }
    assertTrue(sawVector, "some cases run the vector pass");
  }

  /**
   * The 256-bit shape (8 lanes, what an AVX2 machine gets) in a child JVM limited to AVX2, whatever
   * this one runs: the same bytes as scalar there too.
   */
  @Test
  void avx2sEightLanesGiveTheScalarBytesToo() throws Exception {
    simd();
    java.nio.file.Path javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(javaBin.toString(), "-XX:UseAVX=2", "--add-modules", "jdk.incubator.vector",
        "-cp", System.getProperty("java.class.path"), EightLanes.class.getName())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.contains("Vector API, 8 int lanes (256-bit)"), out);
    assertTrue(out.contains("compared 84, differing 0"), out);
  }

  /** The child of {@link #avx2sEightLanesGiveTheScalarBytesToo}. */
  static final class EightLanes {
    public static void main(String[] args) {
      System.out.println(FrameStages.resizePath());
      int[][] sizes = {{1920, 1080}, {321, 181}, {37, 23}, {7, 5}, {2, 3}, {640, 17}, {97, 200}};
      int compared = 0;
      int differing = 0;
      PilResample.Scratch sc = new PilResample.Scratch();
      for (int[] wh : sizes) {
        byte[] rgb = picture(wh[0], wh[1], wh[0]);
        PilResample.Picture pic = new PilResample.Picture(rgb, wh[0]);
        for (int size : new int[] {224, 33}) {
          for (ResizeFilter f : FILTERS) {
            for (boolean crop : new boolean[] {false, true}) {
              byte[] scalar = new byte[3 * size * size];
              byte[] vector = new byte[scalar.length];
              PilResample.resizeSquare(pic, wh[0], wh[1], size, crop, f, scalar, sc, null);
              PilResample.resizeSquare(pic, wh[0], wh[1], size, crop, f, vector, sc, PilResample.SIMD);
              compared++;
              if (!java.util.Arrays.equals(scalar, vector)) {
                differing++;
                System.out.println("differs: " + wh[0] + "x" + wh[1] + " -> " + size + " " + f + (crop ? " crop" : ""));
              }
            }
          }
        }
      }
      System.out.println("compared " + compared + ", differing " + differing);
    }
  }

  @Test
  void aFrameResizesToTheSameTensorEitherWay() {
    DecodedFrame plain = SyntheticVideo.builder().size(250, 140).fps(25, 1).durationSeconds(1)
        .movingSquare(0, 1, 0x00FF00).build().open().next();
    byte[] rgb = plain.toRgb();
    PilResample.Scratch sc = new PilResample.Scratch();
    byte[] scalar = new byte[3 * 64 * 64];
    byte[] vector = new byte[3 * 64 * 64];
    PilResample.resizeSquare(new PilResample.Picture(rgb, 250), 250, 140, 64, true, ResizeFilter.TORCH_BICUBIC,
        scalar, sc, null);
    PilResample.resizeSquare(new PilResample.Picture(rgb, 250), 250, 140, 64, true, ResizeFilter.TORCH_BICUBIC,
        vector, sc, simd());
    assertArrayEquals(scalar, vector);
    float[] half = {0.5f, 0.5f, 0.5f};
    DecodedFrame withRgb = DecodedFrame.ofYuv420(0, 25, 250, 140, plain.yPlane(), plain.uPlane(), plain.vPlane(),
        false, false, dst -> System.arraycopy(rgb, 0, dst, 0, rgb.length));
    float[] t = new float[3 * 64 * 64];
    withRgb.toTensor(64, ResizeMode.CENTER_CROP, ResizeFilter.TORCH_BICUBIC, half, half, t, 0);
    for (int i = 0; i < t.length; i++) {
      assertEquals((vector[i] & 0xff) / 255f / 0.5f - 1f, t[i], 1e-6f, "element " + i);
    }
  }
}
