package io.foley4j.jcodec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Builds MP4/MOV boxes in memory: {@code begin("trak") ... end(mark)} patches the size. */
final class BoxWriter {
  private static final int[] UNITY_MATRIX = {0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000};

  private byte[] buf = new byte[4096];
  private int len;

  int begin(String type) {
    int mark = len;
    u32(0);
    fourcc(type);
    return mark;
  }

  int beginFull(String type, int version, int flags) {
    int mark = begin(type);
    u32(((long) version << 24) | (flags & 0xffffff));
    return mark;
  }

  void end(int mark) {
    long size = len - mark;
    buf[mark] = (byte) (size >>> 24);
    buf[mark + 1] = (byte) (size >>> 16);
    buf[mark + 2] = (byte) (size >>> 8);
    buf[mark + 3] = (byte) size;
  }

  BoxWriter u8(int v) {
    ensure(1);
    buf[len++] = (byte) v;
    return this;
  }

  BoxWriter u16(int v) {
    ensure(2);
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
    return this;
  }

  BoxWriter u32(long v) {
    ensure(4);
    buf[len++] = (byte) (v >>> 24);
    buf[len++] = (byte) (v >>> 16);
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
    return this;
  }

  BoxWriter u64(long v) {
    u32(v >>> 32);
    return u32(v & 0xffffffffL);
  }

  BoxWriter fourcc(String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    if (b.length != 4) {
      throw new IllegalArgumentException("fourcc must be 4 characters: '" + s + "'");
    }
    return bytes(b);
  }

  BoxWriter bytes(byte[] b) {
    return bytes(b, 0, b.length);
  }

  BoxWriter bytes(byte[] b, int off, int n) {
    ensure(n);
    System.arraycopy(b, off, buf, len, n);
    len += n;
    return this;
  }

  BoxWriter zeros(int n) {
    ensure(n);
    len += n;
    return this;
  }

  int length() {
    return len;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }

  private void ensure(int n) {
    if (len + n > buf.length) {
      long want = Math.max((long) buf.length * 2, (long) len + n);
      if (want > Integer.MAX_VALUE - 16) {
        throw new IllegalStateException("box too large");
      }
      buf = Arrays.copyOf(buf, (int) want);
    }
  }

  // ---- common boxes ----

  void mvhd(long timescale, long duration, int nextTrackId) {
    mvhd(timescale, duration, nextTrackId, UNITY_MATRIX);
  }

  /** Movie header with the given 3x3 display matrix (16.16 / 2.30 fixed point, as stored). */
  void mvhd(long timescale, long duration, int nextTrackId, int[] matrix) {
    boolean v1 = duration > 0xffffffffL;
    int m = beginFull("mvhd", v1 ? 1 : 0, 0);
    if (v1) {
      u64(0).u64(0).u32(timescale).u64(duration);
    } else {
      u32(0).u32(0).u32(timescale).u32(duration);
    }
    u32(0x10000).u16(0x100).zeros(10);
    for (int v : matrix) {
      u32(v & 0xffffffffL);
    }
    zeros(24).u32(nextTrackId);
    end(m);
  }

  /** Track header; width/height are 16.16 fixed point (0 for audio). */
  void tkhd(int trackId, long duration, boolean audio, long width16, long height16) {
    BoxWriter d = new BoxWriter();
    d.zeros(8).u16(0).u16(audio ? 1 : 0).u16(audio ? 0x100 : 0).u16(0);
    for (int v : UNITY_MATRIX) {
      d.u32(v & 0xffffffffL);
    }
    d.u32(width16).u32(height16);
    tkhd(trackId, duration, 0x3, d.toByteArray());
  }

  /**
   * Track header with the given flags and the {@link #TKHD_DISPLAY_BYTES} bytes that follow the
   * duration (reserved, layer, alternate group, volume, reserved, matrix, width, height).
   */
  void tkhd(int trackId, long duration, int flags, byte[] display) {
    if (display.length != TKHD_DISPLAY_BYTES) {
      throw new IllegalArgumentException("tkhd display fields must be " + TKHD_DISPLAY_BYTES
          + " bytes, got " + display.length);
    }
    boolean v1 = duration > 0xffffffffL;
    int m = beginFull("tkhd", v1 ? 1 : 0, flags);
    if (v1) {
      u64(0).u64(0).u32(trackId).u32(0).u64(duration);
    } else {
      u32(0).u32(0).u32(trackId).u32(0).u32(duration);
    }
    bytes(display);
    end(m);
  }

  /** Bytes of a tkhd after its duration field: 8 reserved, 8 of layer..reserved, 36, 4, 4. */
  static final int TKHD_DISPLAY_BYTES = 60;

  void mdhd(long timescale, long duration) {
    mdhd(timescale, duration, 0x55c4); // 'und'
  }

  /** Media header; {@code language} is the packed ISO-639-2 code as stored. */
  void mdhd(long timescale, long duration, int language) {
    boolean v1 = duration > 0xffffffffL;
    int m = beginFull("mdhd", v1 ? 1 : 0, 0);
    if (v1) {
      u64(0).u64(0).u32(timescale).u64(duration);
    } else {
      u32(0).u32(0).u32(timescale).u32(duration);
    }
    u16(language).u16(0);
    end(m);
  }

  void hdlr(String handler, boolean quickTime) {
    int m = beginFull("hdlr", 0, 0);
    if (quickTime) {
      fourcc("mhlr");
    } else {
      u32(0);
    }
    fourcc(handler).zeros(12);
    u8(0); // empty name (valid as a C string and as a Pascal string)
    end(m);
  }

  void dinf() {
    int d = begin("dinf");
    int r = beginFull("dref", 0, 0);
    u32(1);
    int u = beginFull("url ", 0, 1);
    end(u);
    end(r);
    end(d);
  }

  void vmhd() {
    int m = beginFull("vmhd", 0, 1);
    zeros(8);
    end(m);
  }

  void smhd() {
    int m = beginFull("smhd", 0, 0);
    zeros(4);
    end(m);
  }

  /** stsc with {@code perChunk} samples in every chunk and a shorter last chunk if needed. */
  void stscUniform(long samples, long perChunk) {
    int m = beginFull("stsc", 0, 0);
    long full = samples / perChunk;
    long rest = samples % perChunk;
    int entries = (full > 0 ? 1 : 0) + (rest > 0 ? 1 : 0);
    u32(entries);
    if (full > 0) {
      u32(1).u32(perChunk).u32(1);
    }
    if (rest > 0) {
      u32(full + 1).u32(rest).u32(1);
    }
    end(m);
  }

  void chunkOffsets(long[] offsets, int n) {
    boolean wide = n > 0 && offsets[n - 1] > 0xffffffffL;
    int m = beginFull(wide ? "co64" : "stco", 0, 0);
    u32(n);
    for (int i = 0; i < n; i++) {
      if (wide) {
        u64(offsets[i]);
      } else {
        u32(offsets[i]);
      }
    }
    end(m);
  }

  void stsz(int[] sizes, int n) {
    int m = beginFull("stsz", 0, 0);
    u32(0).u32(n);
    for (int i = 0; i < n; i++) {
      u32(sizes[i] & 0xffffffffL);
    }
    end(m);
  }

  /** stts run-length coding the decode-time deltas of {@code dts} (and {@code end} after it). */
  void stts(long[] dts, long end, int n) {
    int m = beginFull("stts", 0, 0);
    int countAt = length();
    u32(0);
    long entries = 0;
    int i = 0;
    while (i < n) {
      long delta = (i + 1 < n ? dts[i + 1] : end) - dts[i];
      int j = i + 1;
      while (j < n && (j + 1 < n ? dts[j + 1] : end) - dts[j] == delta) {
        j++;
      }
      u32(j - i).u32(delta);
      entries++;
      i = j;
    }
    patch32(countAt, entries);
    end(m);
  }

  /** ctts run-length coding composition offsets; version 1 (signed) if any is negative. */
  void ctts(int[] offsets, int n) {
    boolean signed = false;
    for (int i = 0; i < n; i++) {
      signed |= offsets[i] < 0;
    }
    int m = beginFull("ctts", signed ? 1 : 0, 0);
    int countAt = length();
    u32(0);
    long entries = 0;
    int i = 0;
    while (i < n) {
      int j = i + 1;
      while (j < n && offsets[j] == offsets[i]) {
        j++;
      }
      u32(j - i).u32(offsets[i] & 0xffffffffL);
      entries++;
      i = j;
    }
    patch32(countAt, entries);
    end(m);
  }

  /** stss listing the (1-based) sync samples. */
  void stss(boolean[] sync, int n) {
    int m = beginFull("stss", 0, 0);
    int countAt = length();
    u32(0);
    long entries = 0;
    for (int i = 0; i < n; i++) {
      if (sync[i]) {
        u32(i + 1);
        entries++;
      }
    }
    patch32(countAt, entries);
    end(m);
  }

  private void patch32(int at, long v) {
    buf[at] = (byte) (v >>> 24);
    buf[at + 1] = (byte) (v >>> 16);
    buf[at + 2] = (byte) (v >>> 8);
    buf[at + 3] = (byte) v;
  }
}
