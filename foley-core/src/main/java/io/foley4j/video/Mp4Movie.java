package io.foley4j.video;

import io.foley4j.FoleyException;
import io.foley4j.UnsupportedVideoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The index (moov box) of an MP4/MOV file and its first video track's sample table, read by our own
 * small box parser. Used both for decoding and for remuxing; sample data stays on disk.
 */
final class Mp4Movie {
  /** Upper bound on the moov box we load into memory. */
  static final int MAX_MOOV_BYTES = 256 << 20;
  /** Upper bound on the number of video samples (about 46 hours at 30 fps). */
  static final int MAX_SAMPLES = 5_000_000;

  final Path file;
  final long fileSize;
  final Box moov;
  final long movieTimescale;
  final VideoTrack video;

  private Mp4Movie(Path file, long fileSize, Box moov, long movieTimescale, VideoTrack video) {
    this.file = file;
    this.fileSize = fileSize;
    this.moov = moov;
    this.movieTimescale = movieTimescale;
    this.video = video;
  }

  /** The video track's sample table and the raw boxes a remux copies. */
  static final class VideoTrack {
    Box trak;
    Box tkhd;
    Box mdhd;
    Box stsd;
    Box stts;
    Box ctts;
    Box stss;
    Box edts;
    String fourcc;
    /** Payload of the avcC box (AVCDecoderConfigurationRecord), or null if not H.264. */
    byte[] avcC;
    long mediaTimescale;
    long mediaDuration;
    int sampleCount;
    long[] offsets;
    int[] sizes;
    long[] dts;
    /** Presentation time of each sample in media ticks (composition offset and edit list applied). */
    long[] pts;
    long durationTicks;
    long durationTimescale;
    int entryWidth;
    int entryHeight;
  }

  static UnsupportedVideoException corrupt(Path file, String what) {
    return new UnsupportedVideoException(
        FoleyException.Code.CORRUPT_VIDEO, file.getFileName() + ": " + what);
  }

  static UnsupportedVideoException corrupt(Path file, String what, Throwable cause) {
    return new UnsupportedVideoException(
        FoleyException.Code.CORRUPT_VIDEO, file.getFileName() + ": " + what, cause);
  }

  static UnsupportedVideoException unsupported(Path file, String what) {
    return new UnsupportedVideoException(
        FoleyException.Code.UNSUPPORTED_VIDEO, file.getFileName() + ": " + what);
  }

  /** Reads the index of {@code file} and its first video track. */
  static Mp4Movie read(Path file) {
    if (file == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "video file must not be null");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size == 0) {
        throw corrupt(file, "the file is empty (0 bytes); pass an MP4 or MOV video file");
      }
      Box moov = findMoov(file, ch, size);
      try {
        return parse(file, size, moov);
      } catch (Box.MalformedBoxException e) {
        throw corrupt(file, "the MP4/MOV index is malformed (" + e.getMessage()
            + "); re-export or remux the file (e.g. ffmpeg -i in -c copy out.mp4)", e);
      }
    } catch (NoSuchFileException e) {
      throw new FoleyException(FoleyException.Code.IO, "video file not found: " + file, e);
    } catch (IOException e) {
      throw new FoleyException(
          FoleyException.Code.IO, "cannot read video file " + file + ": " + e.getMessage(), e);
    }
  }

  private static Box findMoov(Path file, FileChannel ch, long size) throws IOException {
    long pos = 0;
    boolean sawMoof = false;
    ByteBuffer hdr = ByteBuffer.allocate(16);
    while (pos + 8 <= size) {
      hdr.clear();
      if (size - pos < 16) {
        hdr.limit((int) (size - pos));
      }
      readFully(ch, hdr, pos);
      byte[] h = hdr.array();
      long boxSize = Box.u32(h, 0);
      String type = Box.fourcc(h, 4);
      if (!printable(type)) {
        if (pos == 0) {
          throw corrupt(file, "not an MP4/MOV file (no ISO-BMFF box at the start); only MP4/MOV with"
              + " H.264 video is supported");
        }
        throw corrupt(file, "garbage where a box should start at byte " + pos
            + "; the file is damaged");
      }
      int header = 8;
      if (boxSize == 1) {
        if (hdr.position() < 16) {
          break;
        }
        boxSize = Box.s64(h, 8);
        header = 16;
      } else if (boxSize == 0) {
        boxSize = size - pos;
      }
      if (boxSize < header) {
        if (pos == 0) {
          throw corrupt(file, "not an MP4/MOV file (invalid first box); only MP4/MOV with H.264"
              + " video is supported");
        }
        throw corrupt(file, "box '" + type + "' at byte " + pos + " has an invalid size " + boxSize);
      }
      if (type.equals("moof")) {
        sawMoof = true;
      }
      if (type.equals("moov")) {
        if (pos + boxSize > size) {
          throw corrupt(file, "the file is truncated (the moov index box ends past the end of the"
              + " file); re-download or re-export it");
        }
        if (boxSize > MAX_MOOV_BYTES) {
          throw unsupported(file, "the moov index box is " + boxSize + " bytes (limit "
              + MAX_MOOV_BYTES + ")");
        }
        byte[] buf = new byte[(int) boxSize];
        readFully(ch, ByteBuffer.wrap(buf), pos);
        return Box.wrap("moov", buf, 0, header, buf.length);
      }
      pos += boxSize;
    }
    if (sawMoof) {
      throw unsupported(file, "fragmented MP4 is not supported; remux it to a regular MP4"
          + " (ffmpeg -i in.mp4 -c copy out.mp4)");
    }
    if (pos > size) {
      throw corrupt(file, "the file is truncated (it ends inside a box and has no moov index box);"
          + " re-download or re-export it");
    }
    throw corrupt(file, "no moov index box found: the file is truncated, still being written, or"
        + " not an MP4/MOV video");
  }

  private static boolean printable(String t) {
    for (int i = 0; i < 4; i++) {
      char c = t.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  static void readFully(FileChannel ch, ByteBuffer dst, long pos) throws IOException {
    while (dst.hasRemaining()) {
      int n = ch.read(dst, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      pos += n;
    }
  }

  private static Mp4Movie parse(Path file, long fileSize, Box moov) {
    Box mvhd = moov.child("mvhd");
    if (mvhd == null) {
      throw corrupt(file, "the moov box has no mvhd header");
    }
    long movieTs = mvhd.u8(0) == 1 ? mvhd.u32(20) : mvhd.u32(12);
    if (movieTs <= 0) {
      throw corrupt(file, "the movie time scale is 0");
    }
    List<String> otherTracks = new ArrayList<>();
    Box videoTrak = null;
    for (Box trak : moov.children()) {
      if (!trak.type.equals("trak")) {
        continue;
      }
      Box hdlr = trak.path("mdia", "hdlr");
      String handler = hdlr == null ? "?" : hdlr.fourccAt(8);
      if (handler.equals("vide")) {
        videoTrak = trak;
        break;
      }
      otherTracks.add(handler);
    }
    if (videoTrak == null) {
      String what = otherTracks.isEmpty() ? "no tracks at all"
          : "only " + String.join(", ", describe(otherTracks)) + " track(s)";
      throw corrupt(file, "no video track: the file has " + what
          + "; pass a video file with an H.264 video track");
    }
    VideoTrack v = parseVideo(file, fileSize, movieTs, videoTrak);
    return new Mp4Movie(file, fileSize, moov, movieTs, v);
  }

  private static List<String> describe(List<String> handlers) {
    List<String> out = new ArrayList<>();
    for (String h : handlers) {
      out.add(h.equals("soun") ? "audio" : h.equals("text") || h.equals("sbtl") ? "subtitle"
          : "'" + h + "'");
    }
    return out;
  }

  private static Box need(Path file, Box parent, String... path) {
    Box b = parent.path(path);
    if (b == null) {
      throw corrupt(file, "the video track has no '" + path[path.length - 1] + "' box");
    }
    return b;
  }

  private static VideoTrack parseVideo(Path file, long fileSize, long movieTs, Box trak) {
    VideoTrack v = new VideoTrack();
    v.trak = trak;
    v.tkhd = need(file, trak, "tkhd");
    v.mdhd = need(file, trak, "mdia", "mdhd");
    Box stbl = need(file, trak, "mdia", "minf", "stbl");
    v.stsd = need(file, stbl, "stsd");
    v.stts = need(file, stbl, "stts");
    v.ctts = stbl.child("ctts");
    v.stss = stbl.child("stss");
    v.edts = trak.child("edts");
    boolean v1 = v.mdhd.u8(0) == 1;
    v.mediaTimescale = v1 ? v.mdhd.u32(20) : v.mdhd.u32(12);
    v.mediaDuration = v1 ? v.mdhd.s64(24) : v.mdhd.u32(16);
    if (v.mediaTimescale <= 0) {
      throw corrupt(file, "the video track's time scale is 0");
    }

    // Sample description: codec.
    long entries = v.stsd.u32(4);
    List<Box> descs = v.stsd.children(8);
    if (entries < 1 || descs.isEmpty()) {
      throw corrupt(file, "the video track has no sample description");
    }
    Box entry = descs.get(0);
    v.fourcc = entry.type;
    if (entry.payloadSize() >= 78) {
      v.entryWidth = entry.u16(24);
      v.entryHeight = entry.u16(26);
    }
    if (v.fourcc.equals("avc1") || v.fourcc.equals("avc3")) {
      for (Box c : entry.children(78)) {
        if (c.type.equals("avcC")) {
          v.avcC = new byte[c.payloadSize()];
          System.arraycopy(c.buf, c.payload, v.avcC, 0, v.avcC.length);
        }
      }
    }
    if (descs.size() > 1 || entries > 1) {
      throw unsupported(file, "the video track has " + entries + " sample descriptions (a stream"
          + " whose parameters change midway); re-encode it to one H.264 stream");
    }

    // Sizes.
    Box stsz = stbl.child("stsz");
    if (stsz == null) {
      throw corrupt(file, "the video track has no sample size table (stsz); compact stz2 tables"
          + " are not supported");
    }
    long fixed = stsz.u32(4);
    long count = stsz.u32(8);
    if (count > MAX_SAMPLES) {
      throw unsupported(file, "the video has " + count + " frames (limit " + MAX_SAMPLES + ")");
    }
    int n = (int) count;
    v.sampleCount = n;
    v.sizes = new int[n];
    for (int i = 0; i < n; i++) {
      long s = fixed != 0 ? fixed : stsz.u32(12 + 4 * i);
      if (s > Integer.MAX_VALUE) {
        throw corrupt(file, "frame " + i + " claims " + s + " bytes");
      }
      v.sizes[i] = (int) s;
    }

    // Decode times.
    v.dts = new long[n];
    long sttsEntries = v.stts.u32(4);
    int k = 0;
    long t = 0;
    for (int e = 0; e < sttsEntries && k < n; e++) {
      long c = v.stts.u32(8 + 8 * e);
      long d = v.stts.u32(12 + 8 * e);
      for (long j = 0; j < c && k < n; j++) {
        v.dts[k++] = t;
        t += d;
      }
    }
    if (k < n) {
      throw corrupt(file, "the time-to-sample table covers " + k + " of " + n + " frames");
    }
    long dtsEnd = t;

    // Composition offsets (signed, as most readers treat version 0 too).
    long[] cts = v.dts.clone();
    if (v.ctts != null) {
      long ce = v.ctts.u32(4);
      k = 0;
      for (int e = 0; e < ce && k < n; e++) {
        long c = v.ctts.u32(8 + 8 * e);
        int off = v.ctts.s32(12 + 8 * e);
        for (long j = 0; j < c && k < n; j++) {
          cts[k++] += off;
        }
      }
    }

    // Chunk offsets via sample-to-chunk.
    Box stco = stbl.child("stco");
    Box co64 = stbl.child("co64");
    if (stco == null && co64 == null) {
      throw corrupt(file, "the video track has no chunk offset table");
    }
    Box stsc = need(file, stbl, "stsc");
    long chunks = (stco != null ? stco : co64).u32(4);
    long stscCount = stsc.u32(4);
    if (stscCount == 0 && n > 0) {
      throw corrupt(file, "the sample-to-chunk table is empty");
    }
    v.offsets = new long[n];
    k = 0;
    int se = 0;
    for (long chunk = 0; chunk < chunks && k < n; chunk++) {
      while (se + 1 < stscCount && stsc.u32(8 + 12 * (se + 1)) - 1 <= chunk) {
        se++;
      }
      long per = stsc.u32(8 + 12 * se + 4);
      long off = stco != null ? stco.u32(8 + 4 * (int) chunk) : co64.s64(8 + 8 * (int) chunk);
      for (long j = 0; j < per && k < n; j++) {
        v.offsets[k] = off;
        off += v.sizes[k];
        k++;
      }
    }
    if (k < n) {
      throw corrupt(file, "the chunk tables locate only " + k + " of " + n + " frames");
    }
    for (int i = 0; i < n; i++) {
      if (v.offsets[i] < 0 || v.offsets[i] + v.sizes[i] > fileSize) {
        throw corrupt(file, "the file is truncated: frame " + i + " of " + n + " lies beyond the"
            + " end of the file (" + fileSize + " bytes); re-download or re-export it");
      }
    }

    // Edit list: initial empty edits delay the track, the first media edit picks the start.
    long shiftMedia = 0;
    long editDuration = 0;
    if (v.edts != null) {
      Box elst = v.edts.child("elst");
      if (elst != null) {
        boolean ev1 = elst.u8(0) == 1;
        long ec = elst.u32(4);
        int stride = ev1 ? 20 : 12;
        boolean seenMedia = false;
        for (int e = 0; e < ec; e++) {
          int base = 8 + stride * e;
          long segDur = ev1 ? elst.s64(base) : elst.u32(base);
          long mediaTime = ev1 ? elst.s64(base + 8) : elst.s32(base + 4);
          editDuration += segDur;
          if (mediaTime == -1) {
            if (!seenMedia) {
              shiftMedia += Math.round(segDur * (double) v.mediaTimescale / movieTs);
            }
          } else if (!seenMedia) {
            seenMedia = true;
            shiftMedia -= mediaTime;
          }
        }
      }
    }
    v.pts = new long[n];
    for (int i = 0; i < n; i++) {
      v.pts[i] = cts[i] + shiftMedia;
    }
    if (editDuration > 0) {
      v.durationTicks = editDuration;
      v.durationTimescale = movieTs;
    } else {
      long d = v.mediaDuration > 0 ? v.mediaDuration : dtsEnd;
      v.durationTicks = d;
      v.durationTimescale = v.mediaTimescale;
    }
    return v;
  }
}
