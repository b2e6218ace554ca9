package io.foley4j.ffmpeg;

/** Turns one 8-bit plane, or interleaved RGB, by a multiple of 90 degrees clockwise. */
final class Rotate {
  private Rotate() {}

  /**
   * The plane {@code src} ({@code w x h}, row-major) turned {@code degrees} (90, 180 or 270)
   * clockwise: {@code h x w} for 90 and 270.
   */
  static byte[] plane(byte[] src, int w, int h, int degrees) {
    byte[] dst = new byte[src.length];
    switch (degrees) {
      case 90: // dst is h wide, w high: dst(r, c) = src(h-1-c, r)
        for (int r = 0; r < w; r++) {
          int o = r * h;
          for (int c = 0; c < h; c++) {
            dst[o + c] = src[(h - 1 - c) * w + r];
          }
        }
        return dst;
      case 180:
        for (int i = 0, n = src.length; i < n; i++) {
          dst[i] = src[n - 1 - i];
        }
        return dst;
      case 270: // dst(r, c) = src(c, w-1-r)
        for (int r = 0; r < w; r++) {
          int o = r * h;
          int x = w - 1 - r;
          for (int c = 0; c < h; c++) {
            dst[o + c] = src[c * w + x];
          }
        }
        return dst;
      default:
        throw new IllegalArgumentException("rotation must be 90, 180 or 270, was " + degrees);
    }
  }

  /**
   * Interleaved 3-byte pixels {@code src} ({@code w x h}) turned {@code degrees} clockwise into
   * {@code dst} (same length, not {@code src}), as {@link #plane} turns a plane.
   */
  static void rgb(byte[] src, int w, int h, int degrees, byte[] dst) {
    switch (degrees) {
      case 90:
        for (int r = 0; r < w; r++) {
          int o = 3 * r * h;
          for (int c = 0; c < h; c++) {
            int s = 3 * ((h - 1 - c) * w + r);
            dst[o++] = src[s];
            dst[o++] = src[s + 1];
            dst[o++] = src[s + 2];
          }
        }
        return;
      case 180:
        for (int i = 0, n = w * h; i < n; i++) {
          int s = 3 * (n - 1 - i);
          dst[3 * i] = src[s];
          dst[3 * i + 1] = src[s + 1];
          dst[3 * i + 2] = src[s + 2];
        }
        return;
      case 270:
        for (int r = 0; r < w; r++) {
          int o = 3 * r * h;
          int x = w - 1 - r;
          for (int c = 0; c < h; c++) {
            int s = 3 * (c * w + x);
            dst[o++] = src[s];
            dst[o++] = src[s + 1];
            dst[o++] = src[s + 2];
          }
        }
        return;
      default:
        throw new IllegalArgumentException("rotation must be 90, 180 or 270, was " + degrees);
    }
  }
}
