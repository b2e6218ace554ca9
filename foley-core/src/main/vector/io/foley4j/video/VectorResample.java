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
    final long m1 = 0x00FF00FF00FF00FFL;
    final long m2 = 0x0000FFFF0000FFFFL;
    final long m4 = 0x00000000FFFFFFFFL;
    for (int c = 0; c < channels; c++) {
      int i = 0;
      for (; i + 8 <= ow; i += 8) {
        int q = (c * ow + i) * L;
        for (int r = 0; r < L; r += 8) {
          if (r >= nr) {
            break;
          }
          long a0 = (long) LONGS.get(cols, q + r);
          long a1 = (long) LONGS.get(cols, q + L + r);
          long a2 = (long) LONGS.get(cols, q + 2 * L + r);
          long a3 = (long) LONGS.get(cols, q + 3 * L + r);
          long a4 = (long) LONGS.get(cols, q + 4 * L + r);
          long a5 = (long) LONGS.get(cols, q + 5 * L + r);
          long a6 = (long) LONGS.get(cols, q + 6 * L + r);
          long a7 = (long) LONGS.get(cols, q + 7 * L + r);
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
          int o = c * plane + (r0 + r) * ow + i;
          int left = nr - r; // rows of this 8 that exist
          LONGS.set(mid, o, a0);
          if (left > 1) {
            LONGS.set(mid, o + ow, a1);
          }
          if (left > 2) {
            LONGS.set(mid, o + 2 * ow, a2);
          }
          if (left > 3) {
            LONGS.set(mid, o + 3 * ow, a3);
          }
          if (left > 4) {
            LONGS.set(mid, o + 4 * ow, a4);
          }
          if (left > 5) {
            LONGS.set(mid, o + 5 * ow, a5);
          }
          if (left > 6) {
            LONGS.set(mid, o + 6 * ow, a6);
          }
          if (left > 7) {
            LONGS.set(mid, o + 7 * ow, a7);
          }
        }
      }
      for (; i < ow; i++) {
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
    final long m1 = 0x00FF00FF00FF00FFL;
    final long m2 = 0x0000FFFF0000FFFFL;
    final long m4 = 0x00000000FFFFFFFFL;
    for (int g = 0; g < L; g += 8) {
      int p0 = rb[g];
      int p1 = rb[g + 1];
      int p2 = rb[g + 2];
      int p3 = rb[g + 3];
      int p4 = rb[g + 4];
      int p5 = rb[g + 5];
      int p6 = rb[g + 6];
      int p7 = rb[g + 7];
      int b = 0;
      for (; b + 8 <= nb; b += 8) {
        long a0 = (long) LONGS.get(rgb, p0 + b);
        long a1 = (long) LONGS.get(rgb, p1 + b);
        long a2 = (long) LONGS.get(rgb, p2 + b);
        long a3 = (long) LONGS.get(rgb, p3 + b);
        long a4 = (long) LONGS.get(rgb, p4 + b);
        long a5 = (long) LONGS.get(rgb, p5 + b);
        long a6 = (long) LONGS.get(rgb, p6 + b);
        long a7 = (long) LONGS.get(rgb, p7 + b);
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
        int o = b * L + g;
        LONGS.set(block, o, a0);
        LONGS.set(block, o + L, a1);
        LONGS.set(block, o + 2 * L, a2);
        LONGS.set(block, o + 3 * L, a3);
        LONGS.set(block, o + 4 * L, a4);
        LONGS.set(block, o + 5 * L, a5);
        LONGS.set(block, o + 6 * L, a6);
        LONGS.set(block, o + 7 * L, a7);
      }
      for (; b < nb; b++) {
        for (int r = g; r < g + 8; r++) {
          block[b * L + r] = rgb[rb[r] + b];
        }
      }
    }
  }
}
