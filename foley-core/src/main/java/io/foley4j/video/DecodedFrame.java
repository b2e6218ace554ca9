package io.foley4j.video;

import io.foley4j.FoleyException;
import java.util.Arrays;

/**
 * One decoded picture with its presentation timestamp, held as 8-bit YUV 4:2:0 planes (copies that
 * belong to this object), and optionally the decoder's own conversion to RGB ({@link DecoderRgb}).
 * Immutable: accessors return copies.
 *
 * <p>{@link #toTensor} converts only this frame, to normalised RGB at the size a model needs, so
 * frames that are never sampled are never converted: straight from YUV with 2-tap bilinear
 * sampling, or through 8-bit RGB ({@link #toRgb}) with PIL's or torch's antialiased filters
 * ({@link ResizeFilter}).
 */
public final class DecodedFrame {
  private final long ptsTicks;
  private final long timescale;
  private final int width;
  private final int height;
  private final byte[] y;
  private final byte[] u;
  private final byte[] v;
  private final boolean bt709;
  private final boolean fullRange;
  private final DecoderRgb decoderRgb; // null: foley4j's own conversion from the 4:2:0 planes

  /**
   * Planes are taken over (not copied): the caller must not keep them. Chroma planes are
   * {@code ceil(width/2) x ceil(height/2)}; sample values are plain unsigned bytes.
   */
  DecodedFrame(long ptsTicks, long timescale, int width, int height, byte[] y, byte[] u, byte[] v,
      boolean bt709, boolean fullRange) {
    this(ptsTicks, timescale, width, height, y, u, v, bt709, fullRange, null);
  }

  private DecodedFrame(long ptsTicks, long timescale, int width, int height, byte[] y, byte[] u, byte[] v,
      boolean bt709, boolean fullRange, DecoderRgb decoderRgb) {
    int cw = (width + 1) / 2;
    int ch = (height + 1) / 2;
    if (y.length != width * height || u.length != cw * ch || v.length != cw * ch) {
      throw new IllegalArgumentException("plane sizes do not match " + width + "x" + height);
    }
    this.ptsTicks = ptsTicks;
    this.timescale = timescale;
    this.width = width;
    this.height = height;
    this.y = y;
    this.u = u;
    this.v = v;
    this.bt709 = bt709;
    this.fullRange = fullRange;
    this.decoderRgb = decoderRgb;
  }

  /**
   * A frame from 8-bit YUV 4:2:0 planes, for {@link VideoSource} implementations outside this
   * package. The planes are taken over, not copied: the caller must not use them afterwards.
   *
   * @param ptsTicks presentation time in ticks of {@code timescale}; negative for a frame that an
   *     edit list places before the video's start (decoded for its successors, never sampled)
   * @param timescale ticks per second, positive
   * @param y luma, {@code width*height} bytes, row-major
   * @param u Cb, {@code ceil(width/2)*ceil(height/2)} bytes
   * @param v Cr, same size as {@code u}
   * @throws FoleyException {@code INVALID_ARGUMENT} if a size or timestamp does not fit
   */
  public static DecodedFrame ofYuv420(long ptsTicks, long timescale, int width, int height,
      byte[] y, byte[] u, byte[] v, boolean bt709, boolean fullRange) {
    return ofYuv420(ptsTicks, timescale, width, height, y, u, v, bt709, fullRange, null);
  }

  /**
   * As {@link #ofYuv420(long, long, int, int, byte[], byte[], byte[], boolean, boolean)}, with the
   * decoder's own RGB conversion of this picture, which {@link #toRgb} and the antialiased filters
   * of {@link #toTensor} then use instead of foley4j's (the 4:2:0 planes still serve
   * {@link ResizeFilter#BILINEAR_2TAP} and the plane accessors).
   *
   * @param decoderRgb the decoder's conversion, or null for foley4j's own
   */
  public static DecodedFrame ofYuv420(long ptsTicks, long timescale, int width, int height,
      byte[] y, byte[] u, byte[] v, boolean bt709, boolean fullRange, DecoderRgb decoderRgb) {
    if (width <= 0 || height <= 0 || timescale <= 0 || y == null || u == null
        || v == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "invalid frame: " + width
          + "x" + height + " at " + ptsTicks + "/" + timescale + " (planes must not be null)");
    }
    int cw = (width + 1) / 2;
    int ch = (height + 1) / 2;
    if ((long) width * height != y.length || (long) cw * ch != u.length || u.length != v.length) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "plane sizes " + y.length
          + "/" + u.length + "/" + v.length + " do not match " + width + "x" + height);
    }
    return new DecodedFrame(ptsTicks, timescale, width, height, y, u, v, bt709, fullRange, decoderRgb);
  }

  /** Presentation time in seconds. */
  public double ptsSeconds() {
    return ptsTicks / (double) timescale;
  }

  /** Presentation time in ticks of {@link #timescale()}. */
  public long ptsTicks() {
    return ptsTicks;
  }

  /** Ticks per second of {@link #ptsTicks()} (the video track's media time scale). */
  public long timescale() {
    return timescale;
  }

  /** Width in pixels. */
  public int width() {
    return width;
  }

  /** Height in pixels. */
  public int height() {
    return height;
  }

  /** A copy of the luma plane, {@code width*height} unsigned bytes, row-major. */
  public byte[] yPlane() {
    return y.clone();
  }

  /** A copy of the Cb plane, {@code ceil(width/2)*ceil(height/2)} unsigned bytes. */
  public byte[] uPlane() {
    return u.clone();
  }

  /** A copy of the Cr plane, {@code ceil(width/2)*ceil(height/2)} unsigned bytes. */
  public byte[] vPlane() {
    return v.clone();
  }

  /** Whether the stream signals BT.709 colour (else BT.601 is used). */
  public boolean isBt709() {
    return bt709;
  }

  /** Whether the stream signals full-range (0-255) samples (else limited range 16-235). */
  public boolean isFullRange() {
    return fullRange;
  }

  /** Whether {@link #toRgb} is the decoder's own conversion ({@link DecoderRgb}) rather than foley4j's. */
  public boolean hasDecoderRgb() {
    return decoderRgb != null;
  }

  /** Mean luma value (0-255), handy for tests and diagnostics. */
  public double meanLuma() {
    long s = 0;
    for (byte b : y) {
      s += b & 0xff;
    }
    return s / (double) y.length;
  }

  /**
   * {@link #toTensor(int, ResizeMode, ResizeFilter, float[], float[], float[], int)} with
   * {@link ResizeFilter#BILINEAR_2TAP}: straight from YUV with 2-tap bilinear sampling.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} for a non-positive size, arrays of the wrong
   *     length, a zero std, or a destination too small
   */
  public void toTensor(int size, ResizeMode mode, float[] mean, float[] std, float[] dst,
      int offset) {
    toTensor(size, mode, ResizeFilter.BILINEAR_2TAP, mean, std, dst, offset);
  }

  /**
   * Writes this frame as a CHW float RGB tensor of {@code size x size} into {@code dst} starting at
   * {@code offset} (R plane, then G, then B), each value {@code (v/255 - mean[c]) / std[c]}.
   *
   * <p>With {@link ResizeFilter#BILINEAR_2TAP} the conversion goes straight from YUV with 2-tap
   * bilinear sampling (no antialiasing); {@link ResizeMode#CENTER_CROP} scales the centre square.
   *
   * <p>With the PIL filters the 8-bit RGB picture of {@link #toRgb} is resampled as PIL's
   * {@code Image.resize} does (antialiased, 8-bit intermediate and result), with
   * {@link ResizeFilter#TORCH_BICUBIC} as torch's uint8 antialiased bicubic does: {@link ResizeMode#SQUASH}
   * resizes straight to {@code size x size}; {@link ResizeMode#CENTER_CROP} resizes the short side
   * to {@code size} (the long side {@code int(size * long / short)}, as torchvision's
   * {@code Resize(size)}) and keeps the centre square at offsets {@code round((n - size) / 2)}
   * (halves to even, as torchvision's {@code CenterCrop}).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} for a non-positive size, arrays of the wrong
   *     length, a zero std, or a destination too small
   */
  public void toTensor(int size, ResizeMode mode, ResizeFilter filter, float[] mean, float[] std,
      float[] dst, int offset) {
    if (filter == null) {
      throw invalid("resize filter must not be null");
    }
    if (size <= 0 || size > 16384) {
      throw invalid("size must be in 1..16384, got " + size);
    }
    if (mode == null) {
      throw invalid("resize mode must not be null");
    }
    if (mean == null || std == null || mean.length != 3 || std.length != 3) {
      throw invalid("mean and std must each have 3 values (R, G, B)");
    }
    for (float s : std) {
      if (s == 0f || !Float.isFinite(s)) {
        throw invalid("std values must be finite and non-zero, got " + Arrays.toString(std));
      }
    }
    long need = 3L * size * size;
    if (dst == null || offset < 0 || offset + need > dst.length) {
      throw invalid("dst needs " + need + " floats from offset " + offset + " but has "
          + (dst == null ? "none" : dst.length));
    }

    FrameStages stages = FrameStages.active();
    if (filter != ResizeFilter.BILINEAR_2TAP) {
      pilTensor(size, mode, filter, mean, std, dst, offset, stages);
      return;
    }
    long t0 = stages == null ? 0 : stages.now();
    yuvTensor(size, mode, mean, std, dst, offset);
    if (stages != null) {
      stages.addResize(filter, stages.now() - t0);
    }
  }

  /** {@link ResizeFilter#BILINEAR_2TAP}: straight from the 4:2:0 planes. */
  private void yuvTensor(int size, ResizeMode mode, float[] mean, float[] std, float[] dst, int offset) {

    // Source region in luma pixel coordinates.
    double x0 = 0;
    double y0 = 0;
    double sw = width;
    double sh = height;
    if (mode == ResizeMode.CENTER_CROP) {
      double side = Math.min(width, height);
      x0 = (width - side) / 2.0;
      y0 = (height - side) / 2.0;
      sw = side;
      sh = side;
    }
    int cw = (width + 1) / 2;
    int chh = (height + 1) / 2;
    // Per-column and per-row bilinear taps for luma and chroma (chroma sited left, vertically
    // centred: H.264 chroma_sample_loc_type 0).
    int[] lx0 = new int[size];
    int[] lx1 = new int[size];
    float[] lfx = new float[size];
    int[] cx0 = new int[size];
    int[] cx1 = new int[size];
    float[] cfx = new float[size];
    for (int i = 0; i < size; i++) {
      double sx = x0 + (i + 0.5) * sw / size - 0.5;
      tap(sx, width, lx0, lx1, lfx, i);
      tap(sx / 2.0, cw, cx0, cx1, cfx, i);
    }
    int[] ly0 = new int[size];
    int[] ly1 = new int[size];
    float[] lfy = new float[size];
    int[] cy0 = new int[size];
    int[] cy1 = new int[size];
    float[] cfy = new float[size];
    for (int j = 0; j < size; j++) {
      double sy = y0 + (j + 0.5) * sh / size - 0.5;
      tap(sy, height, ly0, ly1, lfy, j);
      tap((sy + 0.5) / 2.0 - 0.5, chh, cy0, cy1, cfy, j);
    }

    // Colour matrix from Kr/Kb; limited range expands Y by 255/219 and chroma by 255/224.
    double kr = bt709 ? 0.2126 : 0.299;
    double kb = bt709 ? 0.0722 : 0.114;
    double kg = 1 - kr - kb;
    float yOff = fullRange ? 0f : 16f;
    float ys = (float) (fullRange ? 1.0 : 255.0 / 219.0);
    double cScale = fullRange ? 1.0 : 255.0 / 224.0;
    float crR = (float) (2 * (1 - kr) * cScale);
    float cbG = (float) (-2 * kb * (1 - kb) / kg * cScale);
    float crG = (float) (-2 * kr * (1 - kr) / kg * cScale);
    float cbB = (float) (2 * (1 - kb) * cScale);
    float[] a = new float[3];
    float[] b = new float[3];
    for (int c = 0; c < 3; c++) {
      a[c] = 1f / (255f * std[c]);
      b[c] = -mean[c] / std[c];
    }
    int plane = size * size;
    float a0 = a[0];
    float a1 = a[1];
    float a2 = a[2];
    float b0 = b[0];
    float b1 = b[1];
    float b2 = b[2];
    // Separable bilinear: each needed source row is resampled horizontally once (rows are needed in
    // increasing order, so two cached rows per plane suffice), then each output row blends two of
    // them vertically. Same taps and weights as sampling every pixel from four neighbours.
    RowCache ry = new RowCache(y, width, lx0, lx1, lfx, size);
    RowCache ru = new RowCache(u, cw, cx0, cx1, cfx, size);
    RowCache rv = new RowCache(v, cw, cx0, cx1, cfx, size);
    for (int j = 0; j < size; j++) {
      float[] ya = ry.row(ly0[j]);
      float[] yb = ry.row(ly1[j]);
      float[] ua = ru.row(cy0[j]);
      float[] ub = ru.row(cy1[j]);
      float[] va = rv.row(cy0[j]);
      float[] vb = rv.row(cy1[j]);
      float fy = lfy[j];
      float gy = cfy[j];
      int row = offset + j * size;
      for (int i = 0; i < size; i++) {
        float yy = (ya[i] + (yb[i] - ya[i]) * fy - yOff) * ys;
        float cb = ua[i] + (ub[i] - ua[i]) * gy - 128f;
        float cr = va[i] + (vb[i] - va[i]) * gy - 128f;
        float r = clamp(yy + crR * cr);
        float g = clamp(yy + cbG * cb + crG * cr);
        float bl = clamp(yy + cbB * cb);
        int o = row + i;
        dst[o] = r * a0 + b0;
        dst[o + plane] = g * a1 + b1;
        dst[o + 2 * plane] = bl * a2 + b2;
      }
    }
  }

  private void pilTensor(int size, ResizeMode mode, ResizeFilter filter, float[] mean, float[] std,
      float[] dst, int offset, FrameStages stages) {
    PilResample.Scratch scratch = PilResample.Scratch.acquire(); // the thread's working arrays
    try {
      pilTensor(size, mode, filter, mean, std, dst, offset, stages, scratch);
    } finally {
      scratch.release();
    }
  }

  private void pilTensor(int size, ResizeMode mode, ResizeFilter filter, float[] mean, float[] std,
      float[] dst, int offset, FrameStages stages, PilResample.Scratch scratch) {
    long t0 = stages == null ? 0 : stages.now();
    byte[] px = scratch.pixels(3 * size * size);
    PilResample.RowSource rows;
    if (decoderRgb != null) {
      // read in place, not kept; a frame resized again right after (both streams sample it) is
      // converted once
      byte[] rgb = scratch.heldRgb(this, 3 * width * height);
      if (rgb == null) {
        rgb = scratch.rgb(3 * width * height);
        decoderRgb.writeRgb(rgb);
        scratch.holdRgb(this, rgb);
        if (stages != null) {
          long t1 = stages.now();
          stages.addRgb(t1 - t0);
          t0 = t1;
        }
      }
      rows = new PilResample.Picture(rgb, width);
    } else {
      rows = new RgbRows()::row;
    }
    PilResample.resizeSquare(rows, width, height, size, mode == ResizeMode.CENTER_CROP, filter, px, scratch);
    if (stages != null) {
      long t1 = stages.now();
      stages.addResize(filter, t1 - t0);
      t0 = t1;
    }
    int plane = size * size;
    for (int c = 0; c < 3; c++) {
      float a = 1f / (255f * std[c]);
      float b = -mean[c] / std[c];
      int o = offset + c * plane;
      int s = c * plane;
      for (int i = 0; i < plane; i++) {
        dst[o + i] = (px[s + i] & 0xff) * a + b;
      }
    }
    if (stages != null) {
      stages.addNormalise(stages.now() - t0);
    }
  }

  /**
   * This frame as 8-bit RGB, interleaved (R, G, B per pixel), row-major, {@code 3*width*height}
   * bytes: the picture the antialiased filters of {@link #toTensor} resample. With a
   * {@link DecoderRgb} (foley-ffmpeg's frames) it is the decoder's conversion; else foley4j's own
   * from the 4:2:0 planes: colour as in {@link #toTensor} (BT.601 or BT.709 as signalled, limited or
   * full range) in libswscale's fixed point, each chroma sample repeated over its 2x2 block of luma
   * samples: the bytes of PyAV's {@code to_ndarray(format="rgb24")} (libswscale on x86-64) for
   * even heights (H.264 4:2:0 pictures always have one), within a few levels for odd heights
   * (where swscale interpolates chroma instead).
   *
   * @throws FoleyException if the decoder's conversion fails
   */
  public byte[] toRgb() {
    if (decoderRgb != null) {
      return decoderRgb();
    }
    byte[] out = new byte[3 * width * height];
    RgbRows rows = new RgbRows();
    byte[] line = new byte[3 * width];
    for (int r = 0; r < height; r++) {
      rows.row(r, line, 0, width);
      System.arraycopy(line, 0, out, 3 * width * r, line.length);
    }
    return out;
  }

  private byte[] decoderRgb() {
    byte[] out = new byte[3 * width * height];
    decoderRgb.writeRgb(out);
    return out;
  }

  /**
   * Converts rows of this frame to 8-bit interleaved RGB, one at a time, with the arithmetic of
   * libswscale's unscaled 4:2:0 to RGB conversion on x86-64 (what PyAV's {@code
   * to_ndarray(format="rgb24")} runs for an even-height 8-bit 4:2:0 picture), written from its
   * definition: each chroma sample covers its 2x2 block of luma samples; the ITU matrix in 16.16
   * fixed point (BT.601 {@code 104597, 132201, 25675, 53279}, BT.709 {@code 117489, 138438, 13975,
   * 34925} for Cr→R, Cb→B, Cb→G, Cr→G), luma scaled by {@code 255/219} for limited range or the
   * chroma factors by {@code 224/255} for full range (integer divisions); each factor rounded to
   * 13 fractional bits; then with {@code y = (Y - 16)*8} (limited) or {@code Y*8} (full), {@code
   * u = (Cb - 128)*8}, {@code v = (Cr - 128)*8} and {@code m(a, k) = (a*k) >> 16}:
   * {@code R = m(y, cy) + m(v, vr)}, {@code G = m(y, cy) + m(u, ug) + m(v, vg)}, {@code B = m(y,
   * cy) + m(u, ub)}, clamped to 0..255.
   */
  private final class RgbRows {
    private final int cw = (width + 1) / 2;
    private final int yOff;
    private final int cy;
    private final int vr;
    private final int ub;
    private final int ug;
    private final int vg;

    RgbRows() {
      long crv = bt709 ? 117489 : 104597;
      long cbu = bt709 ? 138438 : 132201;
      long cgu = -(bt709 ? 13975 : 25675);
      long cgv = -(bt709 ? 34925 : 53279);
      long y16 = 1 << 16;
      if (!fullRange) {
        y16 = y16 * 255 / 219;
      } else {
        crv = Math.floorDiv(crv * 224, 255);
        cbu = Math.floorDiv(cbu * 224, 255);
        cgu = Math.floorDiv(cgu * 224, 255);
        cgv = Math.floorDiv(cgv * 224, 255);
      }
      yOff = fullRange ? 0 : 16;
      cy = q13(y16);
      vr = q13(crv);
      ub = q13(cbu);
      ug = q13(cgu);
      vg = q13(cgv);
    }

    /** A 16.16 factor with 13 fractional bits, rounded (all fit 15 bits, so products fit an int). */
    private static int q13(long f16) {
      return (int) ((f16 * (1 << 13) + (1 << 15)) >> 16);
    }

    /** Row {@code r}, columns {@code x0 .. x1-1}, into {@code out} at {@code 3*x} (others untouched). */
    void row(int r, byte[] out, int x0, int x1) {
      int cb0 = (r >> 1) * cw;
      int yb = r * width;
      int lastC = -1;
      int rv = 0;
      int gc = 0;
      int bu = 0;
      for (int x = x0; x < x1; x++) {
        int c = cb0 + (x >> 1);
        if (c != lastC) { // one chroma sample serves two columns
          int u8 = ((u[c] & 0xff) - 128) * 8;
          int v8 = ((v[c] & 0xff) - 128) * 8;
          rv = (v8 * vr) >> 16;
          gc = ((u8 * ug) >> 16) + ((v8 * vg) >> 16);
          bu = (u8 * ub) >> 16;
          lastC = c;
        }
        int yy = (((y[yb + x] & 0xff) - yOff) * 8 * cy) >> 16;
        int o = 3 * x;
        out[o] = clip8(yy + rv);
        out[o + 1] = clip8(yy + gc);
        out[o + 2] = clip8(yy + bu);
      }
    }
  }

  private static byte clip8(int x) {
    return (byte) (x < 0 ? 0 : (x > 255 ? 255 : x));
  }

  /** The two most recent horizontally resampled rows of one plane. */
  private static final class RowCache {
    private final byte[] plane;
    private final int stride;
    private final int[] x0;
    private final int[] x1;
    private final float[] fx;
    private final float[][] rows;
    private final int[] index = {-1, -1};
    private int next;

    RowCache(byte[] plane, int stride, int[] x0, int[] x1, float[] fx, int size) {
      this.plane = plane;
      this.stride = stride;
      this.x0 = x0;
      this.x1 = x1;
      this.fx = fx;
      this.rows = new float[][] {new float[size], new float[size]};
    }

    float[] row(int r) {
      if (index[0] == r) {
        return rows[0];
      }
      if (index[1] == r) {
        return rows[1];
      }
      int slot = next;
      next ^= 1;
      float[] out = rows[slot];
      int base = r * stride;
      for (int i = 0; i < out.length; i++) {
        float p = plane[base + x0[i]] & 0xff;
        float q = plane[base + x1[i]] & 0xff;
        out[i] = p + (q - p) * fx[i];
      }
      index[slot] = r;
      return out;
    }
  }

  private static void tap(double s, int n, int[] i0, int[] i1, float[] f, int k) {
    if (s <= 0) {
      i0[k] = 0;
      i1[k] = 0;
      f[k] = 0;
    } else if (s >= n - 1) {
      i0[k] = n - 1;
      i1[k] = n - 1;
      f[k] = 0;
    } else {
      int fl = (int) Math.floor(s);
      i0[k] = fl;
      i1[k] = fl + 1;
      f[k] = (float) (s - fl);
    }
  }


  private static float clamp(float x) {
    return x < 0 ? 0 : (x > 255 ? 255 : x);
  }

  private static FoleyException invalid(String msg) {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "toTensor: " + msg);
  }

  @Override
  public String toString() {
    return "DecodedFrame[pts=" + ptsTicks + "/" + timescale + " (" + ptsSeconds() + " s), "
        + width + "x" + height + "]";
  }
}
