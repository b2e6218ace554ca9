package io.foley4j.jcodec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One ISO-BMFF / QuickTime box held in memory (a view into a byte array). Parsing is bounds-checked:
 * a malformed size raises {@link MalformedBoxException}, never an index exception.
 */
final class Box {
  final String type;
  final byte[] buf;
  /** Offset of the box header in {@link #buf}. */
  final int start;
  /** Offset of the payload (after the size/type header). */
  final int payload;
  /** Offset one past the end of the box. */
  final int end;

  private Box(String type, byte[] buf, int start, int payload, int end) {
    this.type = type;
    this.buf = buf;
    this.start = start;
    this.payload = payload;
    this.end = end;
  }

  /** Thrown for boxes whose sizes do not fit their parent, or fields read past the end. */
  static final class MalformedBoxException extends RuntimeException {
    MalformedBoxException(String message) {
      super(message);
    }
  }

  /** Parses the boxes in {@code buf[from, to)}. */
  static List<Box> parseAll(byte[] buf, int from, int to) {
    List<Box> out = new ArrayList<>();
    int pos = from;
    while (pos + 8 <= to) {
      long size = u32(buf, pos);
      String type = fourcc(buf, pos + 4);
      int header = 8;
      if (size == 1) {
        if (pos + 16 > to) {
          throw new MalformedBoxException("box '" + type + "' has a truncated 64-bit size");
        }
        size = s64(buf, pos + 8);
        header = 16;
      } else if (size == 0) {
        size = to - pos;
      }
      if (size < header || size > to - pos) {
        throw new MalformedBoxException(
            "box '" + type + "' claims " + size + " bytes but only " + (to - pos) + " remain");
      }
      out.add(new Box(type, buf, pos, pos + header, (int) (pos + size)));
      pos += (int) size;
    }
    return out;
  }

  static Box wrap(String type, byte[] buf, int start, int headerSize, int end) {
    return new Box(type, buf, start, start + headerSize, end);
  }

  /** Children of a plain container box. */
  List<Box> children() {
    return parseAll(buf, payload, end);
  }

  /** Children starting {@code skip} bytes into the payload (e.g. 8 for stsd, 78 for avc1). */
  List<Box> children(int skip) {
    if (payload + skip > end) {
      return List.of();
    }
    return parseAll(buf, payload + skip, end);
  }

  /** The first child of the given type, or null. */
  Box child(String childType) {
    for (Box b : children()) {
      if (b.type.equals(childType)) {
        return b;
      }
    }
    return null;
  }

  /** Follows a path of container types, e.g. {@code path("mdia", "minf", "stbl")}; null if absent. */
  Box path(String... types) {
    Box b = this;
    for (String t : types) {
      b = b.child(t);
      if (b == null) {
        return null;
      }
    }
    return b;
  }

  int size() {
    return end - start;
  }

  int payloadSize() {
    return end - payload;
  }

  /** A copy of the whole box (header included). */
  byte[] copyBytes() {
    byte[] out = new byte[end - start];
    System.arraycopy(buf, start, out, 0, out.length);
    return out;
  }

  // ---- bounds-checked field readers, offsets relative to the payload ----

  int u8(int off) {
    check(off, 1);
    return buf[payload + off] & 0xff;
  }

  int u16(int off) {
    check(off, 2);
    return ((buf[payload + off] & 0xff) << 8) | (buf[payload + off + 1] & 0xff);
  }

  long u32(int off) {
    check(off, 4);
    return u32(buf, payload + off);
  }

  int s32(int off) {
    check(off, 4);
    return (int) u32(buf, payload + off);
  }

  long s64(int off) {
    check(off, 8);
    return s64(buf, payload + off);
  }

  String fourccAt(int off) {
    check(off, 4);
    return fourcc(buf, payload + off);
  }

  private void check(int off, int len) {
    if (off < 0 || (long) payload + off + len > end) {
      throw new MalformedBoxException(
          "box '" + type + "' is too short (" + payloadSize() + " bytes) for a field at " + off);
    }
  }

  static long u32(byte[] b, int p) {
    return ((long) (b[p] & 0xff) << 24)
        | ((b[p + 1] & 0xff) << 16)
        | ((b[p + 2] & 0xff) << 8)
        | (b[p + 3] & 0xff);
  }

  static long s64(byte[] b, int p) {
    return (u32(b, p) << 32) | u32(b, p + 4);
  }

  static String fourcc(byte[] b, int p) {
    return new String(b, p, 4, StandardCharsets.ISO_8859_1);
  }

  @Override
  public String toString() {
    return "Box[" + type + ", " + size() + " bytes]";
  }
}
