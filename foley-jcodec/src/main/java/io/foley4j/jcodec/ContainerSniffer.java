package io.foley4j.jcodec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Recognises common non-MP4 formats by their magic bytes, so that a Matroska, WebM, MPEG-TS, AVI,
 * Ogg, FLV or MPEG-PS file (or an image, or a raw stream) is refused as {@code UNSUPPORTED_VIDEO}
 * naming what it is, instead of as a damaged MP4.
 */
final class ContainerSniffer {
  static final String SUPPORTED = "foley4j reads MP4 and MOV (QuickTime) files with H.264 video,"
      + " including fragmented MP4";
  private static final int TS_PACKET = 188;
  private static final int HEAD = 4 * 192 + 8;

  private ContainerSniffer() {}

  /** Throws {@code UNSUPPORTED_VIDEO} if the file starts like a format other than MP4/MOV. */
  static void refuseOtherFormats(Path file, java.nio.channels.SeekableByteChannel ch, long size) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(HEAD, size));
    Mp4Movie.readFully(ch, buf, 0);
    String name = identify(buf.array(), buf.position(), size);
    if (name == null) {
      return;
    }
    if (name.endsWith(" image")) {
      throw Mp4Movie.unsupported(file, "the file is a " + name + ", not a video; " + SUPPORTED);
    }
    throw Mp4Movie.unsupported(file, "the file is in " + name + " format, not MP4/MOV; "
        + SUPPORTED + ": convert it (ffmpeg -i in -c:v libx264 -pix_fmt yuv420p out.mp4, or"
        + " -c copy if it already is H.264) or plug in another VideoSourceFactory");
  }

  /** The name of the format {@code b[0, len)} starts with, or null if none we know (or ISO-BMFF). */
  static String identify(byte[] b, int len, long fileSize) {
    if (starts(b, len, 0x1a, 0x45, 0xdf, 0xa3)) {
      String docType = ebmlDocType(b, len);
      if ("webm".equals(docType)) {
        return "WebM";
      }
      return "matroska".equals(docType) ? "Matroska (MKV)" : "Matroska/WebM (EBML)";
    }
    if (starts(b, len, 'R', 'I', 'F', 'F') && len >= 12) {
      String form = new String(b, 8, 4, StandardCharsets.ISO_8859_1);
      switch (form) {
        case "AVI ":
          return "AVI";
        case "WEBP":
          return "WebP image";
        case "WAVE":
          return "WAV audio";
        default:
          return "RIFF '" + form.trim() + "'";
      }
    }
    if (starts(b, len, 'O', 'g', 'g', 'S')) {
      return "Ogg";
    }
    if (starts(b, len, 'F', 'L', 'V', 1)) {
      return "FLV (Flash video)";
    }
    if (syncEvery(b, len, 0, TS_PACKET)) {
      return "MPEG transport stream (TS)";
    }
    if (syncEvery(b, len, 4, TS_PACKET + 4)) {
      return "MPEG transport stream (M2TS)";
    }
    if (starts(b, len, 0, 0, 1, 0xba)) {
      return "MPEG program stream (MPEG-PS/VOB)";
    }
    if (starts(b, len, 0, 0, 1, 0xb3)) {
      return "MPEG-1/2 video elementary stream";
    }
    if (len > 4 && starts(b, len, 0, 0, 0, 1) && (b[4] & 0x80) == 0
        && ((b[4] & 0x1f) == 7 || (b[4] & 0x1f) == 9)) {
      return "raw H.264 (Annex B) elementary stream";
    }
    if (starts(b, len, 0x89, 'P', 'N', 'G')) {
      return "PNG image";
    }
    if (starts(b, len, 0xff, 0xd8, 0xff)) {
      return "JPEG image";
    }
    if (starts(b, len, 'G', 'I', 'F', '8')) {
      return "GIF image";
    }
    if (starts(b, len, 'I', 'D', '3') || (len > 1 && (b[0] & 0xff) == 0xff
        && (b[1] & 0xe0) == 0xe0 && (b[1] & 0x06) != 0)) {
      return "MP3 audio";
    }
    if (starts(b, len, 'f', 'L', 'a', 'C')) {
      return "FLAC audio";
    }
    if (starts(b, len, '#', 'E', 'X', 'T', 'M', '3', 'U')) {
      return "HLS playlist (M3U8)";
    }
    if (len >= 12 && b[4] == 'f' && b[5] == 't' && b[6] == 'y' && b[7] == 'p') {
      String brand = new String(b, 8, 4, StandardCharsets.ISO_8859_1);
      if (brand.equals("heic") || brand.equals("heix") || brand.equals("mif1")) {
        return "HEIF image";
      }
      if (brand.equals("avif")) {
        return "AVIF image";
      }
    }
    return null;
  }

  private static boolean starts(byte[] b, int len, int... magic) {
    if (len < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if ((b[i] & 0xff) != magic[i]) {
        return false;
      }
    }
    return true;
  }

  /** A 0x47 sync byte at {@code first} and every {@code stride} bytes, at least twice. */
  private static boolean syncEvery(byte[] b, int len, int first, int stride) {
    int seen = 0;
    for (int p = first; p < len; p += stride) {
      if (b[p] != 0x47) {
        return false;
      }
      seen++;
    }
    return seen >= 2;
  }

  /** The DocType string of an EBML header, or null. */
  private static String ebmlDocType(byte[] b, int len) {
    int p = 4;
    long[] v = new long[2];
    if (!vint(b, len, p, v, false)) {
      return null;
    }
    p += (int) v[1];
    long end = Math.min(len, p + v[0]);
    while (p < end) {
      if (!vint(b, len, p, v, true)) {
        return null;
      }
      long id = v[0];
      p += (int) v[1];
      if (!vint(b, len, p, v, false)) {
        return null;
      }
      p += (int) v[1];
      long size = v[0];
      if (size < 0 || p + size > end) {
        return null;
      }
      if (id == 0x4282) {
        return new String(b, p, (int) size, StandardCharsets.US_ASCII).trim().toLowerCase();
      }
      p += (int) size;
    }
    return null;
  }

  /**
   * Reads an EBML variable-length integer at {@code p} into {@code out} (value, length); element
   * IDs keep their length marker.
   */
  private static boolean vint(byte[] b, int len, int p, long[] out, boolean keepMarker) {
    if (p >= len) {
      return false;
    }
    int first = b[p] & 0xff;
    int n = Integer.numberOfLeadingZeros(first) - 23;
    if (first == 0 || n > 8 || p + n > len) {
      return false;
    }
    long value = keepMarker ? first : first & (0xff >> n);
    for (int i = 1; i < n; i++) {
      value = (value << 8) | (b[p + i] & 0xff);
    }
    out[0] = value;
    out[1] = n;
    return true;
  }
}
