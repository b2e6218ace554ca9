package io.foley4j.video;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The horizontal pass of {@link PilResample} with the Vector API (the incubating {@code
 * jdk.incubator.vector} module of JDK 17), for a whole interleaved RGB picture: the same integer
 * arithmetic, so the same bytes. The only class that uses the module: {@link PilResample} loads it by
 * name, and only when the module is in the boot layer ({@code --add-modules jdk.incubator.vector}).
 *
 * <p>A vector holds one source column of {@code L} consecutive rows ({@code L} the preferred number
 * of {@code int} lanes, 16 with AVX-512, 8 with AVX2): each block of {@code L} rows is first turned
 * so that the rows of a byte position lie side by side ({@code L x 8} bytes at a time, as 8x8 byte
 * transposes inside {@code long}s), then every output column of every channel is its taps' sum of
 * whole vectors, shifted, clamped and written back to its {@code L} rows of the intermediate.
 */
final class VectorResample implements PilResample.Simd {
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
  private static final int L = INTS.length();
  private static final VectorSpecies<Byte> BYTES =
      L % 8 == 0 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : ByteVector.SPECIES_64;
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  /** Where row {@code k} of an 8x8 square of {@code cols} starts: {@code k * L}. */
  private static final int[] BY_L = {0, L, 2 * L, 3 * L, 4 * L, 5 * L, 6 * L, 7 * L};

  private VectorResample() {}

  /** The pass, or null where the preferred vectors hold fewer than 8 or not a multiple of 8 ints. */
  static PilResample.Simd create() {
    if (L < 8 || L % 8 != 0 || BYTES.length() != L) {
      return null;
    }
    return new VectorResample();
  }

  @Override
  public String describe() {
    return "Vector API, " + L + " int lanes (" + INTS.vectorBitSize() + "-bit)";
  }

  @Override
  public void resample(byte[] rgb, int width, int y0, int rows, int x0, int x1, PilResample.Coeffs h,
      PilResample.Coeffs v, byte[] out, PilResample.Scratch sc) {
    int ow = h.size;
    byte[] mid = sc.mid(3 * rows * ow);
    horizontal(rgb, width, y0, rows, x0, x1, h, mid, sc);
    vertical(mid, rows, ow, y0, v, out);
  }

  /** The horizontal pass into {@code mid}: planar 8-bit, {@code [3][rows][h.size]}. */
  private static void horizontal(byte[] rgb, int width, int y0, int rows, int x0, int x1, PilResample.Coeffs h,
      byte[] mid, PilResample.Scratch sc) {
    int ow = h.size;
    int nb = 3 * (x1 - x0); // bytes of a row read
    byte[] block = sc.block(nb * L);
    byte[] cols = sc.cols(3 * ow * L);
    int[] rb = new int[L];
    int plane = rows * ow;
    int prec = h.precision;
    IntVector half = IntVector.broadcast(INTS, 1 << (prec - 1));
    IntVector zero = IntVector.zero(INTS);
    IntVector max = IntVector.broadcast(INTS, 255);
    int[] k = h.k;
    int[] min = h.min;
    int[] count = h.count;
    int ks = h.ksize;
    for (int r0 = 0; r0 < rows; r0 += L) {
      int nr = Math.min(L, rows - r0);
      for (int r = 0; r < L; r++) { // a last, short block repeats its last row
        rb[r] = 3 * (width * (y0 + r0 + Math.min(r, nr - 1)) + x0);
      }
      transpose(rgb, rb, nb, block);
      for (int i = 0; i < ow; i++) {
        int n = count[i];
        int kb = i * ks;
        int xb = 3 * (min[i] - x0);
        for (int c = 0; c < 3; c++) {
          IntVector acc = half;
          int t = (xb + c) * L;
          for (int x = 0; x < n; x++, t += 3 * L) {
            IntVector s = (IntVector) ByteVector.fromArray(BYTES, block, t).convertShape(VectorOperators.B2I, INTS, 0);
            acc = acc.add(s.and(0xff).mul(k[kb + x]));
          }
          ((ByteVector) acc.lanewise(VectorOperators.ASHR, prec).max(zero).min(max)
              .convertShape(VectorOperators.I2B, BYTES, 0)).intoArray(cols, (c * ow + i) * L);
        }
      }
      untranspose(cols, 3, ow, nr, mid, plane, r0);
    }
  }

  /**
   * {@code cols[(c*ow + i)*L + r]} (output column {@code i} of channel {@code c}, row {@code r} of the
   * block) into {@code mid[c*plane + (r0 + r)*ow + i]} for {@code r < nr}: 8 columns by 8 rows at a time.
   */
  private static void untranspose(byte[] cols, int channels, int ow, int nr, byte[] mid, int plane, int r0) {
    int whole = ow - ow % 8;
    for (int c = 0; c < channels; c++) {
      for (int r = 0; r < nr; r += 8) { // rows past nr are not written
        transposeSquares(cols, BY_L, 0, c * ow * L + r, 8 * L, mid, c * plane + (r0 + r) * ow, 8, ow, whole / 8,
            Math.min(8, nr - r));
      }
      for (int i = whole; i < ow; i++) {
        int q = (c * ow + i) * L;
        for (int r = 0; r < nr; r++) {
          mid[c * plane + (r0 + r) * ow + i] = cols[q + r];
        }
      }
    }
  }

  /** The vertical pass: output row {@code j} sums its taps' rows of {@code mid}, {@code L} columns at a time. */
  private static void vertical(byte[] mid, int rows, int ow, int y0, PilResample.Coeffs v, byte[] out) {
    int oh = v.size;
    int plane = rows * ow;
    int oplane = ow * oh;
    int prec = v.precision;
    int halfValue = 1 << (prec - 1);
    IntVector half = IntVector.broadcast(INTS, halfValue);
    IntVector zero = IntVector.zero(INTS);
    IntVector max = IntVector.broadcast(INTS, 255);
    int[] k = v.k;
    int ks = v.ksize;
    int whole = ow - ow % L;
    for (int j = 0; j < oh; j++) {
      int n = v.count[j];
      int kb = j * ks;
      int first = (v.min[j] - y0) * ow;
      for (int c = 0; c < 3; c++) {
        int src = c * plane + first;
        int dst = c * oplane + j * ow;
        for (int i = 0; i < whole; i += L) {
          IntVector acc = half;
          int p = src + i;
          for (int y = 0; y < n; y++, p += ow) {
            IntVector s = (IntVector) ByteVector.fromArray(BYTES, mid, p).convertShape(VectorOperators.B2I, INTS, 0);
            acc = acc.add(s.and(0xff).mul(k[kb + y]));
          }
          ((ByteVector) acc.lanewise(VectorOperators.ASHR, prec).max(zero).min(max)
              .convertShape(VectorOperators.I2B, BYTES, 0)).intoArray(out, dst + i);
        }
        for (int i = whole; i < ow; i++) {
          int acc = halfValue;
          int p = src + i;
          for (int y = 0; y < n; y++, p += ow) {
            acc += (mid[p] & 0xff) * k[kb + y];
          }
          int q = acc >> prec;
          out[dst + i] = (byte) (q < 0 ? 0 : (q > 255 ? 255 : q));
        }
      }
    }
  }

  /**
   * Byte {@code b} of the rows starting at {@code rb[0..L)} into {@code block[b*L + r]}: 8 rows by 8
   * bytes at a time, each 8x8 square transposed inside eight {@code long}s.
   */
  static void transpose(byte[] rgb, int[] rb, int nb, byte[] block) {
    int whole = nb - nb % 8;
    for (int g = 0; g < L; g += 8) {
      transposeSquares(rgb, rb, g, 0, 8, block, g, 8 * L, L, whole / 8, 8);
      for (int b = whole; b < nb; b++) {
        for (int r = g; r < g + 8; r++) {
          block[b * L + r] = rgb[rb[r] + b];
        }
      }
    }
  }

  /**
   * {@code count} squares of 8x8 bytes, each transposed inside eight {@code long}s (the one transpose
   * of both directions). Square {@code s} reads its row {@code k} at {@code src[at[k0 + k] + from + s *
   * step]} and writes its row {@code j} at {@code dst[to + s * toStep + j * stride]}, byte {@code k} of
   * which is byte {@code j} of row {@code k}; rows {@code j >= n} are not written.
   */
  private static void transposeSquares(byte[] src, int[] at, int k0, int from, int step, byte[] dst, int to,
      int toStep, int stride, int count, int n) {
    final long m1 = 0x00FF00FF00FF00FFL;
    final long m2 = 0x0000FFFF0000FFFFL;
    final long m4 = 0x00000000FFFFFFFFL;
    int p0 = at[k0] + from;
    int p1 = at[k0 + 1] + from;
    int p2 = at[k0 + 2] + from;
    int p3 = at[k0 + 3] + from;
    int p4 = at[k0 + 4] + from;
    int p5 = at[k0 + 5] + from;
    int p6 = at[k0 + 6] + from;
    int p7 = at[k0 + 7] + from;
    for (int s = 0, q = 0, o = to; s < count; s++, q += step, o += toStep) {
      long a0 = (long) LONGS.get(src, p0 + q);
      long a1 = (long) LONGS.get(src, p1 + q);
      long a2 = (long) LONGS.get(src, p2 + q);
      long a3 = (long) LONGS.get(src, p3 + q);
      long a4 = (long) LONGS.get(src, p4 + q);
      long a5 = (long) LONGS.get(src, p5 + q);
      long a6 = (long) LONGS.get(src, p6 + q);
      long a7 = (long) LONGS.get(src, p7 + q);
      long t;
      t = ((a0 >>> 8) ^ a1) & m1;
      a1 ^= t;
      a0 ^= t << 8;
      t = ((a2 >>> 8) ^ a3) & m1;
      a3 ^= t;
      a2 ^= t << 8;
      t = ((a4 >>> 8) ^ a5) & m1;
      a5 ^= t;
      a4 ^= t << 8;
      t = ((a6 >>> 8) ^ a7) & m1;
      a7 ^= t;
      a6 ^= t << 8;
      t = ((a0 >>> 16) ^ a2) & m2;
      a2 ^= t;
      a0 ^= t << 16;
      t = ((a1 >>> 16) ^ a3) & m2;
      a3 ^= t;
      a1 ^= t << 16;
      t = ((a4 >>> 16) ^ a6) & m2;
      a6 ^= t;
      a4 ^= t << 16;
      t = ((a5 >>> 16) ^ a7) & m2;
      a7 ^= t;
      a5 ^= t << 16;
      t = ((a0 >>> 32) ^ a4) & m4;
      a4 ^= t;
      a0 ^= t << 32;
      t = ((a1 >>> 32) ^ a5) & m4;
      a5 ^= t;
      a1 ^= t << 32;
      t = ((a2 >>> 32) ^ a6) & m4;
      a6 ^= t;
      a2 ^= t << 32;
      t = ((a3 >>> 32) ^ a7) & m4;
      a7 ^= t;
      a3 ^= t << 32;
      LONGS.set(dst, o, a0);
      if (n == 8) { // every square of a block but the last rows of a short one
        LONGS.set(dst, o + stride, a1);
        LONGS.set(dst, o + 2 * stride, a2);
        LONGS.set(dst, o + 3 * stride, a3);
        LONGS.set(dst, o + 4 * stride, a4);
        LONGS.set(dst, o + 5 * stride, a5);
        LONGS.set(dst, o + 6 * stride, a6);
        LONGS.set(dst, o + 7 * stride, a7);
        continue;
      }
      if (n > 1) {
        LONGS.set(dst, o + stride, a1);
      }
      if (n > 2) {
        LONGS.set(dst, o + 2 * stride, a2);
      }
      if (n > 3) {
        LONGS.set(dst, o + 3 * stride, a3);
      }
      if (n > 4) {
        LONGS.set(dst, o + 4 * stride, a4);
      }
      if (n > 5) {
        LONGS.set(dst, o + 5 * stride, a5);
      }
      if (n > 6) {
        LONGS.set(dst, o + 6 * stride, a6);
      }
    }
  }
}
