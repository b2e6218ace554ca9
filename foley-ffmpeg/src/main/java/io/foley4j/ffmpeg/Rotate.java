package io.foley4j.ffmpeg;

/** Turns one 8-bit plane by a multiple of 90 degrees clockwise. */
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
}
