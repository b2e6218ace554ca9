package io.foley4j.video;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Antialiased separable resampling of 8-bit RGB with the arithmetic of PIL's
 * {@code Image.resize} for the BILINEAR and BICUBIC filters, written from its definition:
 *
 * <ul>
 *   <li>Output pixel {@code i} of an axis resized from {@code in} to {@code out} samples is centred
 *       at {@code c = (i + 0.5) * scale} in source coordinates, {@code scale = in / out}. The filter
 *       is stretched by {@code fs = max(scale, 1)} (antialiasing when shrinking) so its support is
 *       {@code support * fs} (1 for the triangle, 2 for the cubic with {@code a = -0.5}).
 *   <li>Taps are source pixels {@code j} in {@code [trunc(c - support + 0.5), trunc(c + support +
 *       0.5))} clipped to the axis, weighted {@code filter((j - c + 0.5) / fs)} and normalised to sum
 *       to 1, then converted to fixed point with 22 fractional bits (rounded half away from zero).
 *   <li>The horizontal pass runs first, on only the rows the vertical pass needs; each sum starts at
 *       {@code 2^21} (rounding), is shifted right by 22 and clamped to 0..255, so the intermediate
 *       image is 8-bit, as is the result. An axis whose size does not change is not resampled.
 * </ul>
 *
 * <p>The same passes serve torch's uint8 antialiased bicubic ({@code interpolate(mode="bicubic",
 * antialias=True)} on a uint8 tensor, what torchvision's {@code v2.Resize} does to uint8 images),
 * {@link ResizeFilter#TORCH_BICUBIC}: its taps are PIL's (same centres, supports and bounds), its
 * cubic is written {@code ((a*x - 5a)*x + 8a)*x - 4a} for {@code 1 <= |x| < 2}, and its fixed point
 * differs: the normalised weights become int16 with a precision {@code p} chosen per axis, the
 * largest {@code p < 22} for which {@code round(wmax * 2^(p+1)) < 2^15} fails first ({@code wmax}
 * the largest weight of all outputs of the axis, not only of a crop), each weight rounded half away
 * from zero; sums start at {@code 2^(p-1)} and are shifted right by {@code p}.
 *
 * <p>Weight tables depend only on (source size, resized size, first output, count, filter) and are
 * cached, so consecutive frames of a video reuse them.
 */
final class PilResample {
  static final int PRECISION_BITS = 32 - 8 - 2;

  private PilResample() {}

  /**
   * Faster passes giving the same bytes, for a whole interleaved picture resampled on both axes:
   * rows {@code y0 .. y0+rows-1} and columns {@code x0 .. x1-1} are those the taps {@code h} and
   * {@code v} (neither an identity) read; the result into {@code out} as {@link #resample} writes it.
   */
  interface Simd {
    void resample(byte[] rgb, int width, int y0, int rows, int x0, int x1, Coeffs h, Coeffs v, byte[] out,
        Scratch sc);

    /** What it runs on, for benchmarks. */
    String describe();
  }

  /**
   * The Vector API pass ({@code VectorResample}) when the JVM runs with {@code --add-modules
   * jdk.incubator.vector} and the system property {@code foley4j.resize.vector} is not {@code
   * false}, else null (scalar). Loaded by name so that nothing else links to the incubating module.
   */
  static final Simd SIMD = loadSimd();

  private static Simd loadSimd() {
    if ("false".equalsIgnoreCase(System.getProperty("foley4j.resize.vector"))
        || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return null;
    }
    try {
      return (Simd) Class.forName(PilResample.class.getPackageName() + ".VectorResample")
          .getDeclaredMethod("create").invoke(null);
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      return null; // an unusual JVM: the scalar passes
    }
  }

  /** How the resizes run in this JVM, for benchmarks: the Vector API's lanes, or scalar and how to enable it. */
  static String resizePath() {
    return SIMD != null ? SIMD.describe()
        : "scalar (the Vector API needs --add-modules jdk.incubator.vector on x86-64 with AVX2 or AVX-512)";
  }

  /**
   * Supplies source rows as interleaved 8-bit RGB: row {@code y}, columns {@code x0 .. x1-1}, into
   * {@code rgb} at {@code 3*x} ({@code rgb} holds a whole row; other columns are not read).
   */
  interface RowSource {
    void row(int y, byte[] rgb, int x0, int x1);
  }

  /** Fixed-point taps of one axis: output {@code i} reads {@code count[i]} samples from {@code min[i]}. */
  static final class Coeffs {
    final int size;
    final int ksize;
    final int[] min;
    final int[] count;
    final int[] k; // size * ksize, fixed point
    final double[] weights; // the normalised weights before fixed point (tests)
    final boolean identity;
    final int precision; // fractional bits of k

    Coeffs(int size, int ksize, int[] min, int[] count, int[] k, double[] weights, boolean identity,
        int precision) {
      this.size = size;
      this.ksize = ksize;
      this.min = min;
      this.count = count;
      this.k = k;
      this.weights = weights;
      this.identity = identity;
      this.precision = precision;
    }
  }

  private record Key(int in, int out, int first, int count, ResizeFilter filter) {}

  private static final Map<Key, Coeffs> CACHE = new ConcurrentHashMap<>();

  static double triangle(double x) {
    x = Math.abs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
  }

  static double cubic(double x) {
    final double a = -0.5;
    x = Math.abs(x);
    if (x < 1.0) {
      return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
      return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0.0;
  }

  /**
   * Taps for outputs {@code first .. first+count-1} of resizing an axis of {@code in} samples to
   * {@code out} (a crop of the resized axis takes a sub-range; each output's taps do not depend on
   * the others).
   */
  static Coeffs coeffs(int in, int out, int first, int count, boolean bicubic) {
    return coeffs(in, out, first, count, bicubic ? ResizeFilter.PIL_BICUBIC : ResizeFilter.PIL_BILINEAR);
  }

  /** As {@link #coeffs(int, int, int, int, boolean)} for one of the antialiased filters. */
  static Coeffs coeffs(int in, int out, int first, int count, ResizeFilter filter) {
    if (in <= 0 || out <= 0 || first < 0 || count <= 0 || first + count > out) {
      throw new IllegalArgumentException("bad axis: " + in + " -> " + out + " [" + first + ", +" + count + ")");
    }
    if (filter == ResizeFilter.BILINEAR_2TAP) {
      throw new IllegalArgumentException("bilinear-2tap has no antialiased taps");
    }
    Key key = new Key(in, out, first, count, filter);
    Coeffs c = CACHE.get(key);
    if (c == null) {
      if (CACHE.size() > 256) {
        CACHE.clear(); // many distinct video sizes: start over rather than grow
      }
      c = filter == ResizeFilter.TORCH_BICUBIC ? computeTorch(in, out, first, count)
          : compute(in, out, first, count, filter == ResizeFilter.PIL_BICUBIC);
      CACHE.put(key, c);
    }
    return c;
  }

  /** torch's cubic for the antialiased uint8 path, a = -0.5, in its own order of operations. */
  static double torchCubic(double x) {
    final double a = -0.5;
    x = Math.abs(x);
    if (x < 1.0) {
      return ((a + 2) * x - (a + 3)) * x * x + 1;
    }
    if (x < 2.0) {
      return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }
    return 0.0;
  }

  /**
   * torch's taps: every output of the axis is computed (the precision depends on the largest
   * weight of them all), those of {@code first .. first+count-1} kept.
   */
  private static Coeffs computeTorch(int in, int out, int first, int count) {
    double scale = (double) in / out;
    double support = scale >= 1.0 ? 2.0 * scale : 2.0;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
    int[] min = new int[count];
    int[] cnt = new int[count];
    double[] w = new double[count * ksize];
    double[] one = new double[ksize];
    double wmax = 0;
    for (int i = 0; i < out; i++) {
      double center = scale * (i + 0.5);
      int xmin = Math.max((int) (center - support + 0.5), 0);
      int xsize = Math.min((int) (center + support + 0.5), in) - xmin;
      xsize = Math.max(0, Math.min(xsize, ksize));
      double total = 0;
      for (int j = 0; j < xsize; j++) {
        double f = torchCubic((j + xmin - center + 0.5) * invscale);
        one[j] = f;
        total += f;
      }
      if (total != 0.0) {
        for (int j = 0; j < xsize; j++) {
          one[j] /= total;
          wmax = Math.max(wmax, one[j]);
        }
      }
      int n = i - first;
      if (n >= 0 && n < count) {
        System.arraycopy(one, 0, w, n * ksize, xsize);
        min[n] = xmin;
        cnt[n] = xsize;
      }
    }
    int p = 0;
    for (; p < 22; p++) {
      if ((int) (0.5 + wmax * (1 << (p + 1))) >= (1 << 15)) {
        break;
      }
    }
    int[] k = new int[count * ksize];
    for (int n = 0; n < count; n++) {
      for (int j = 0; j < cnt[n]; j++) {
        double v = w[n * ksize + j] * (1 << p);
        k[n * ksize + j] = (short) (v < 0 ? (int) (-0.5 + v) : (int) (0.5 + v));
      }
    }
    return new Coeffs(count, ksize, min, cnt, k, w, in == out, p);
  }

  private static Coeffs compute(int in, int out, int first, int count, boolean bicubic) {
    double support0 = bicubic ? 2.0 : 1.0;
    double scale = (double) in / out;
    double filterscale = Math.max(scale, 1.0);
    double support = support0 * filterscale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    int[] min = new int[count];
    int[] cnt = new int[count];
    int[] k = new int[count * ksize];
    double[] w = new double[count * ksize];
    double ss = 1.0 / filterscale;
    for (int n = 0; n < count; n++) {
      int xx = first + n;
      double center = (xx + 0.5) * scale;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0) {
        xmin = 0;
      }
      int xmax = (int) (center + support + 0.5);
      if (xmax > in) {
        xmax = in;
      }
      xmax -= xmin;
      double ww = 0;
      int base = n * ksize;
      for (int x = 0; x < xmax; x++) {
        double v = (x + xmin - center + 0.5) * ss;
        double f = bicubic ? cubic(v) : triangle(v);
        w[base + x] = f;
        ww += f;
      }
      for (int x = 0; x < xmax; x++) {
        if (ww != 0.0) {
          w[base + x] /= ww;
        }
        double p = w[base + x] * (1 << PRECISION_BITS);
        k[base + x] = p < 0 ? (int) (-0.5 + p) : (int) (0.5 + p);
      }
      min[n] = xmin;
      cnt[n] = xmax;
    }
    return new Coeffs(count, ksize, min, cnt, k, w, in == out, PRECISION_BITS);
  }

  private static int clip8(int ss, int precision) {
    int v = ss >> precision;
    return v < 0 ? 0 : (v > 255 ? 255 : v);
  }

  /**
   * Resamples a {@code srcW x srcH} picture with horizontal taps {@code h} and vertical taps
   * {@code v} into {@code out}: three planes (R, G, B) of {@code h.size x v.size} values 0..255.
   * An axis whose taps are an identity ({@code in == out}) is copied, as PIL skips that pass.
   */
  static void resample(RowSource src, int srcW, int srcH, Coeffs h, Coeffs v, int firstCol,
      int firstRow, byte[] out) {
    Scratch sc = Scratch.acquire();
    try {
      resample(src, srcW, srcH, h, v, firstCol, firstRow, out, sc);
    } finally {
      sc.release();
    }
  }

  /** As {@link #resample(RowSource, int, int, Coeffs, Coeffs, int, int, byte[])} with the caller's working arrays. */
  static void resample(RowSource src, int srcW, int srcH, Coeffs h, Coeffs v, int firstCol,
      int firstRow, byte[] out, Scratch sc) {
    resample(src, srcW, srcH, h, v, firstCol, firstRow, out, sc, SIMD);
  }

  /** As {@link #resample(RowSource, int, int, Coeffs, Coeffs, int, int, byte[], Scratch)} with the given faster pass, or none (scalar). */
  static void resample(RowSource src, int srcW, int srcH, Coeffs h, Coeffs v, int firstCol,
      int firstRow, byte[] out, Scratch sc, Simd simd) {
    int ow = h.size;
    int oh = v.size;
    int plane = ow * oh;
    if (out.length < 3 * plane) {
      throw new IllegalArgumentException("out too small");
    }
    // rows of the source the vertical pass reads
    int y0;
    int y1;
    if (v.identity) {
      y0 = firstRow;
      y1 = firstRow + oh;
    } else {
      y0 = v.min[0];
      y1 = v.min[oh - 1] + v.count[oh - 1];
      for (int j = 0; j < oh; j++) { // monotone in practice; be safe
        y0 = Math.min(y0, v.min[j]);
        y1 = Math.max(y1, v.min[j] + v.count[j]);
      }
    }
    int rows = y1 - y0;
    // columns of the source the horizontal pass reads
    int x0;
    int x1;
    if (h.identity) {
      x0 = firstCol;
      x1 = firstCol + ow;
    } else {
      x0 = h.min[0];
      x1 = h.min[0] + h.count[0];
      for (int i = 0; i < ow; i++) {
        x0 = Math.min(x0, h.min[i]);
        x1 = Math.max(x1, h.min[i] + h.count[i]);
      }
    }
    // rows read in place from a whole picture, else copied into a line
    byte[] whole = src instanceof Picture p ? p.rgb() : null;
    if (simd != null && whole != null && !h.identity && !v.identity) {
      simd.resample(whole, srcW, y0, rows, x0, x1, h, v, out, sc);
      return;
    }
    byte[] line = whole != null ? null : sc.line(3 * srcW);
    // horizontal pass into the planar 8-bit intermediate [3][rows][ow], held as ints (values 0..255)
    // so that the vertical pass's loops are over int arrays; straight into out when there is no
    // vertical pass
    boolean direct = v.identity;
    int tplane = rows * ow;
    int[] tmp = direct ? null : sc.tmp(3 * tplane);
    int ks = h.ksize;
    int hp = h.precision;
    int hHalf = 1 << (hp - 1);
    int[] hk = h.k;
    int[] hmin = h.min;
    int[] hcount = h.count;
    for (int r = 0; r < rows; r++) {
      byte[] buf;
      int base;
      if (whole != null) {
        buf = whole;
        base = 3 * srcW * (y0 + r);
      } else {
        src.row(y0 + r, line, x0, x1);
        buf = line;
        base = 0;
      }
      int o = r * ow;
      for (int i = 0; i < ow; i++) {
        int s0;
        int s1;
        int s2;
        if (h.identity) {
          int s = base + 3 * (firstCol + i);
          s0 = buf[s] & 0xff;
          s1 = buf[s + 1] & 0xff;
          s2 = buf[s + 2] & 0xff;
        } else {
          int n = hcount[i];
          int kb = i * ks;
          s0 = hHalf;
          s1 = hHalf;
          s2 = hHalf;
          int p = base + 3 * hmin[i];
          for (int x = 0; x < n; x++, p += 3) {
            int w = hk[kb + x];
            s0 += (buf[p] & 0xff) * w;
            s1 += (buf[p + 1] & 0xff) * w;
            s2 += (buf[p + 2] & 0xff) * w;
          }
          s0 = clip8(s0, hp);
          s1 = clip8(s1, hp);
          s2 = clip8(s2, hp);
        }
        if (direct) {
          out[o + i] = (byte) s0;
          out[tplane + o + i] = (byte) s1;
          out[2 * tplane + o + i] = (byte) s2;
        } else {
          tmp[o + i] = s0;
          tmp[tplane + o + i] = s1;
          tmp[2 * tplane + o + i] = s2;
        }
      }
    }
    if (direct) {
      return;
    }
    // vertical pass: for each output row, accumulate its source rows
    int[] acc = sc.acc(3 * ow);
    int vk = v.ksize;
    int vp = v.precision;
    int vHalf = 1 << (vp - 1);
    for (int j = 0; j < oh; j++) {
      java.util.Arrays.fill(acc, 0, 3 * ow, vHalf);
      int n = v.count[j];
      int kb = j * vk;
      for (int y = 0; y < n; y++) {
        int w = v.k[kb + y];
        int ro = (v.min[j] + y - y0) * ow;
        for (int c = 0; c < 3; c++) {
          int t = c * tplane + ro;
          int a = c * ow;
          for (int i = 0; i < ow; i++) {
            acc[a + i] += tmp[t + i] * w;
          }
        }
      }
      int o = j * ow;
      for (int c = 0; c < 3; c++) {
        int a = c * ow;
        int d = c * plane + o;
        for (int i = 0; i < ow; i++) {
          out[d + i] = (byte) clip8(acc[a + i], vp);
        }
      }
    }
  }

  /** A whole interleaved RGB picture, {@code 3 * width} bytes per row, as a row source read in place. */
  record Picture(byte[] rgb, int width) implements RowSource {
    @Override
    public void row(int y, byte[] line, int x0, int x1) {
      System.arraycopy(rgb, 3 * (width * y + x0), line, 3 * x0, 3 * (x1 - x0));
    }
  }

  /**
   * Working arrays of the calling thread, reused from one frame to the next instead of allocated
   * per frame: the RGB picture a decoder converts into, the line, the intermediate picture and
   * the accumulators. An array is kept only up to {@link #KEEP_BYTES} (a 1080p RGB picture, or
   * the intermediate of 1080p to 512 wide); larger ones are allocated per call, as before. Never
   * shared between threads, and every element read is written first in the same call. A use
   * nested in another on the same thread (a {@link DecoderRgb} that itself resizes a frame) gets
   * arrays of its own.
   */
  static final class Scratch {
    /** The largest array a thread keeps between frames, in bytes. */
    static final int KEEP_BYTES = 8 << 20;
    private static final ThreadLocal<Scratch> MINE = ThreadLocal.withInitial(Scratch::new);

    private boolean busy;

    private byte[] rgb = new byte[0];
    private java.lang.ref.WeakReference<Object> rgbOwner; // whose picture rgb holds, or null
    private byte[] line = new byte[0];
    private byte[] pixels = new byte[0];
    private int[] tmp = new int[0];
    private int[] acc = new int[0];
    private byte[] block = new byte[0];
    private byte[] cols = new byte[0];
    private byte[] mid = new byte[0];

    /** The thread's arrays, or new ones while the thread's are in use; give them back with {@link #release()}. */
    static Scratch acquire() {
      Scratch s = MINE.get();
      if (s.busy) {
        return new Scratch();
      }
      s.busy = true;
      return s;
    }

    void release() {
      busy = false;
    }

    /**
     * At least {@code n} bytes for a decoder's RGB picture (contents undefined); the picture
     * {@link #holdRgb held} before is forgotten.
     */
    byte[] rgb(int n) {
      rgbOwner = null;
      if (rgb.length >= n) {
        return rgb;
      }
      byte[] a = new byte[n];
      if (n <= KEEP_BYTES) {
        rgb = a;
      }
      return a;
    }

    /**
     * Records that {@code rgb} (from {@link #rgb(int)}, written completely) is {@code owner}'s
     * picture, for {@link #heldRgb}. Kept only while it is the thread's own array; the owner is
     * weakly referenced, so a thread does not keep its last frame alive.
     */
    void holdRgb(Object owner, byte[] rgb) {
      if (rgb == this.rgb) {
        rgbOwner = new java.lang.ref.WeakReference<>(owner);
      }
    }

    /**
     * {@code owner}'s picture of {@code n} bytes if it is the last one {@link #holdRgb held} (no
     * other was asked for since), else null.
     */
    byte[] heldRgb(Object owner, int n) {
      java.lang.ref.WeakReference<Object> o = rgbOwner;
      return o != null && o.get() == owner && rgb.length >= n ? rgb : null;
    }

    /** At least {@code n} bytes for a resized 8-bit picture (contents undefined). */
    byte[] pixels(int n) {
      if (pixels.length >= n) {
        return pixels;
      }
      byte[] a = new byte[n];
      if (n <= KEEP_BYTES) {
        pixels = a;
      }
      return a;
    }

    byte[] line(int n) {
      if (line.length >= n) {
        return line;
      }
      byte[] a = new byte[n];
      if (n <= KEEP_BYTES) {
        line = a;
      }
      return a;
    }

    int[] tmp(int n) {
      if (tmp.length >= n) {
        return tmp;
      }
      int[] a = new int[n];
      if (4L * n <= KEEP_BYTES) {
        tmp = a;
      }
      return a;
    }

    /** At least {@code n} bytes for a block of turned rows ({@link Simd}). */
    byte[] block(int n) {
      if (block.length >= n) {
        return block;
      }
      byte[] a = new byte[n];
      if (n <= KEEP_BYTES) {
        block = a;
      }
      return a;
    }

    /** At least {@code n} bytes for a block's resampled columns ({@link Simd}). */
    byte[] cols(int n) {
      if (cols.length >= n) {
        return cols;
      }
      byte[] a = new byte[n];
      if (n <= KEEP_BYTES) {
        cols = a;
      }
      return a;
    }

    /** At least {@code n} bytes for the 8-bit intermediate picture ({@link Simd}). */
    byte[] mid(int n) {
      if (mid.length >= n) {
        return mid;
      }
      byte[] a = new byte[n];
      if (n <= KEEP_BYTES) {
        mid = a;
      }
      return a;
    }

    int[] acc(int n) {
      if (acc.length >= n) {
        return acc;
      }
      int[] a = new int[n];
      if (4L * n <= KEEP_BYTES) {
        acc = a;
      }
      return a;
    }
  }

  /** The size a short-side resize to {@code size} gives, as torchvision's Resize(size) computes it. */
  static int[] shortSideSize(int w, int h, int size) {
    int shortSide = Math.min(w, h);
    int longSide = Math.max(w, h);
    int newLong = (int) ((double) ((long) size * longSide) / shortSide); // int(size * long / short)
    return w <= h ? new int[] {size, newLong} : new int[] {newLong, size};
  }

  /** torchvision's CenterCrop offset: int(round((n - size) / 2.0)), halves to even. */
  static int cropOffset(int n, int size) {
    return (int) Math.rint((n - size) / 2.0);
  }

  /**
   * Resizes {@code src} ({@code w x h}) to {@code size x size}: squashed, or (centerCrop) short side
   * to {@code size} then the centre square (torchvision {@code Resize(size)} + {@code
   * CenterCrop(size)} on a PIL image). Result: planar R, G, B, 0..255.
   */
  static void resizeSquare(RowSource src, int w, int h, int size, boolean centerCrop,
      boolean bicubic, byte[] out) {
    resizeSquare(src, w, h, size, centerCrop, bicubic ? ResizeFilter.PIL_BICUBIC : ResizeFilter.PIL_BILINEAR, out);
  }

  /** As {@link #resizeSquare(RowSource, int, int, int, boolean, boolean, byte[])} with any antialiased filter. */
  static void resizeSquare(RowSource src, int w, int h, int size, boolean centerCrop,
      ResizeFilter filter, byte[] out) {
    Scratch sc = Scratch.acquire();
    try {
      resizeSquare(src, w, h, size, centerCrop, filter, out, sc);
    } finally {
      sc.release();
    }
  }

  /** As {@link #resizeSquare(RowSource, int, int, int, boolean, ResizeFilter, byte[])} with the caller's working arrays. */
  static void resizeSquare(RowSource src, int w, int h, int size, boolean centerCrop,
      ResizeFilter filter, byte[] out, Scratch sc) {
    resizeSquare(src, w, h, size, centerCrop, filter, out, sc, SIMD);
  }

  /** As {@link #resizeSquare(RowSource, int, int, int, boolean, ResizeFilter, byte[], Scratch)} with the given faster pass, or none. */
  static void resizeSquare(RowSource src, int w, int h, int size, boolean centerCrop,
      ResizeFilter filter, byte[] out, Scratch sc, Simd simd) {
    int rw = size;
    int rh = size;
    int left = 0;
    int top = 0;
    if (centerCrop) {
      int[] r = shortSideSize(w, h, size);
      rw = r[0];
      rh = r[1];
      left = cropOffset(rw, size);
      top = cropOffset(rh, size);
    }
    Coeffs hc = coeffs(w, rw, left, size, filter);
    Coeffs vc = coeffs(h, rh, top, size, filter);
    resample(src, w, h, hc, vc, left, top, out, sc, simd);
  }

  /** Convenience for tests: full PIL resize of interleaved RGB to {@code ow x oh}, planar result. */
  static byte[] resize(byte[] rgb, int w, int h, int ow, int oh, boolean bicubic) {
    return resize(rgb, w, h, ow, oh, bicubic ? ResizeFilter.PIL_BICUBIC : ResizeFilter.PIL_BILINEAR);
  }

  /** As {@link #resize(byte[], int, int, int, int, boolean)} with any antialiased filter. */
  static byte[] resize(byte[] rgb, int w, int h, int ow, int oh, ResizeFilter filter) {
    byte[] out = new byte[3 * ow * oh];
    resample(new Picture(rgb, w), w, h,
        coeffs(w, ow, 0, ow, filter), coeffs(h, oh, 0, oh, filter), 0, 0, out);
    return out;
  }
}
