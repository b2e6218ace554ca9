package io.foley4j.jcodec;

import io.foley4j.video.VideoSources;

import io.foley4j.FoleyException;
import io.foley4j.UnsupportedVideoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The index (moov box) of an MP4/MOV file and its first video track's sample table, read by our own
 * small box parser. Used both for decoding and for remuxing; sample data stays on disk.
 *
 * <p><b>Fragmented MP4.</b> Samples listed in the moov's sample table come first; then every
 * movie fragment ({@code moof}) in file order adds the samples of its track fragments ({@code
 * traf}) for the video track: {@code tfhd} defaults override the {@code trex} defaults of {@code
 * mvex}, {@code trun} entries override both, composition offsets come from {@code trun}, decode
 * times from {@code tfdt} (or continue from the previous fragment). A track fragment's data starts
 * at its explicit base data offset, else at the enclosing {@code moof} (when default-base-is-moof
 * is set, or for the first track fragment of a {@code moof}), else where the preceding track
 * fragment's data ended; a {@code trun} without a data offset continues where the previous run
 * ended. The duration of a fragmented file is {@code mehd}'s if present, else the end of its last
 * sample (the moov's {@code mvhd/tkhd/mdhd} only describe the samples in the moov).
 *
 * <p><b>Duration check.</b> The timestamps are known at open, so the durations the container
 * states are checked against them: with E the end of the last frame (the largest pts plus that
 * frame's sample duration), P0 the first frame's pts, and F the mean sample duration, a stated
 * duration D is accepted when {@code |E - D| <= F} (measured from the timeline's zero) or {@code
 * |E - P0 - D| <= F} (measured from the first frame, as files without an edit list that start with
 * a B-frame composition delay state it), with one tick of the movie time scale added for rounding.
 * Presentation durations (the edit list's total, {@code tkhd}, {@code mehd}) are compared on the
 * presentation timeline (edit list applied: initial empty edits delay, the first media edit's
 * media time shifts); the media duration ({@code mdhd}) on the media timeline (composition times
 * without the edit list). A zero or all-ones duration means "not stated" and is not checked; in a
 * fragmented file only {@code mehd} and the edit list are checked ({@code tkhd/mdhd} cover the
 * moov's samples only). {@code mvhd} is not checked: it is the longest of all tracks, and an
 * audio track may outlast the video. A mismatch is refused with {@code CORRUPT_VIDEO}: a header
 * claiming an hour over three seconds of frames would otherwise make the engine plan an hour of
 * audio, and a header shorter than its frames would drop frames. An edit list that cuts frames off
 * the end of the media is refused for the same reason.
 */
final class Mp4Movie {
  /** Upper bound on the moov box we load into memory (also on all moof boxes together). */
  static final int MAX_MOOV_BYTES = 256 << 20;
  /** Upper bound on the number of video samples (about 46 hours at 30 fps). */
  static final int MAX_SAMPLES = 5_000_000;

  /** Decode times beyond this (2^61 ticks, 73 million years at 1 GHz) are refused as corrupt. */
  private static final long MAX_TICKS = 1L << 61;

  private static final String REMUX_HINT = "remux it (ffmpeg -i in.mp4 -c copy out.mp4)";

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
    Box edts;
    String fourcc;
    /** Payload of the avcC box (AVCDecoderConfigurationRecord), or null if not H.264. */
    byte[] avcC;
    long trackId;
    long mediaTimescale;
    /** The media duration in media ticks (mdhd's, or the end of the last sample if unstated). */
    long mediaDuration;
    /** Whether samples came from movie fragments. */
    boolean fragmented;
    int sampleCount;
    long[] offsets;
    int[] sizes;
    /** Decode time of each sample in media ticks. */
    long[] dts;
    /** Decode time one past the last sample (its dts plus its duration). */
    long dtsEnd;
    /** Composition offset of each sample (cts - dts) in media ticks. */
    int[] ctsOffsets;
    /** Whether each sample is a sync sample (keyframe). */
    boolean[] sync;
    /** Presentation time of each sample in media ticks (composition offset and edit list applied). */
    long[] pts;
    long durationTicks;
    long durationTimescale;
    int entryWidth;
    int entryHeight;
  }

  /** One top-level moof box in memory and its position in the file. */
  private static final class Fragment {
    final Box moof;
    final long filePos;

    Fragment(Box moof, long filePos) {
      this.moof = moof;
      this.filePos = filePos;
    }
  }

  /** trex defaults of one track. */
  private static final class Defaults {
    long descriptionIndex = 1;
    long duration;
    long size;
    long flags;
  }

  /** Growable sample columns. */
  private static final class Samples {
    long[] offsets = new long[64];
    int[] sizes = new int[64];
    long[] dts = new long[64];
    int[] cts = new int[64];
    boolean[] sync = new boolean[64];
    int n;

    void add(Path file, long offset, long size, long dts, long ctsOffset, boolean isSync) {
      if (n >= MAX_SAMPLES) {
        throw unsupported(file, "the video has more than " + MAX_SAMPLES + " frames (the limit)");
      }
      if (size > Integer.MAX_VALUE) {
        throw corrupt(file, "frame " + n + " claims " + size + " bytes");
      }
      if (ctsOffset > Integer.MAX_VALUE || ctsOffset < Integer.MIN_VALUE) {
        throw corrupt(file, "frame " + n + " has a composition offset of " + ctsOffset
            + " ticks");
      }
      if (n == offsets.length) {
        int cap = (int) Math.min((long) n * 2, MAX_SAMPLES);
        offsets = Arrays.copyOf(offsets, cap);
        sizes = Arrays.copyOf(sizes, cap);
        this.dts = Arrays.copyOf(this.dts, cap);
        cts = Arrays.copyOf(cts, cap);
        sync = Arrays.copyOf(sync, cap);
      }
      offsets[n] = offset;
      sizes[n] = (int) size;
      this.dts[n] = dts;
      cts[n] = (int) ctsOffset;
      sync[n] = isSync;
      n++;
    }
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

  /**
   * Reads the index of {@code file} and its first video track.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} for null or a path that is not a regular file
   *     (see {@link VideoSources#requireRegularFile}), {@code IO} if it cannot be read
   * @throws UnsupportedVideoException for anything that is not a usable MP4/MOV video
   */
  static Mp4Movie read(Path file) {
    VideoSources.requireRegularFile(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(file, ch);
    } catch (NoSuchFileException e) {
      throw new FoleyException(FoleyException.Code.IO, "video file not found: " + file, e);
    } catch (IOException e) {
      throw new FoleyException(
          FoleyException.Code.IO, "cannot read video file " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads the index from {@code ch} (a file or {@link MemoryChannel}); {@code file} names the video
   * in messages ({@link VideoSources#memoryLabel} for bytes in memory).
   */
  static Mp4Movie read(Path file, SeekableByteChannel ch) {
    try {
      long size = ch.size();
      if (size == 0) {
        throw corrupt(file, "the file is empty (0 bytes); pass an MP4 or MOV video file");
      }
      ContainerSniffer.refuseOtherFormats(file, ch, size);
      List<Fragment> fragments = new ArrayList<>();
      Box moov = scan(file, ch, size, fragments);
      try {
        return parse(file, size, moov, fragments);
      } catch (Box.MalformedBoxException e) {
        throw corrupt(file, "the MP4/MOV index is malformed (" + e.getMessage() + "); "
            + REMUX_HINT + " or re-export it", e);
      }
    } catch (IOException e) {
      throw new FoleyException(
          FoleyException.Code.IO, "cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Walks the top-level boxes: returns the moov box and adds every moof box to {@code fragments}.
   * Unreadable bytes after the moov of a file without movie fragments are ignored (trailing junk),
   * as in every player; in a fragmented file they would hide fragments and are refused.
   */
  private static Box scan(Path file, SeekableByteChannel ch, long size, List<Fragment> fragments)
      throws IOException {
    long pos = 0;
    long moofBytes = 0;
    Box moov = null;
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
      int header = 8;
      boolean valid = printable(type);
      if (valid && boxSize == 1) {
        if (hdr.position() < 16) {
          break;
        }
        boxSize = Box.s64(h, 8);
        header = 16;
      } else if (valid && boxSize == 0) {
        boxSize = size - pos;
      }
      valid = valid && boxSize >= header;
      if (!valid) {
        if (pos == 0) {
          throw corrupt(file, "not an MP4/MOV file (no ISO-BMFF box at the start); only MP4/MOV"
              + " with H.264 video is supported");
        }
        if (moov != null && !declaresFragments(moov) && fragments.isEmpty()) {
          break; // trailing junk after a complete, unfragmented file
        }
        throw corrupt(file, "garbage where a box should start at byte " + pos
            + "; the file is damaged");
      }
      boolean past = boxSize > size - pos;
      if (type.equals("moov") && moov == null) {
        if (past) {
          throw corrupt(file, "the file is truncated (the moov index box ends past the end of the"
              + " file); re-download or re-export it");
        }
        if (boxSize > MAX_MOOV_BYTES) {
          throw unsupported(file, "the moov index box is " + boxSize + " bytes (limit "
              + MAX_MOOV_BYTES + ")");
        }
        byte[] buf = new byte[(int) boxSize];
        readFully(ch, ByteBuffer.wrap(buf), pos);
        moov = Box.wrap("moov", buf, 0, header, buf.length);
      } else if (type.equals("moof")) {
        if (past) {
          throw corrupt(file, "the file is truncated (the movie fragment at byte " + pos
              + " ends past the end of the file); re-download or re-export it");
        }
        moofBytes += boxSize;
        if (moofBytes > MAX_MOOV_BYTES) {
          throw unsupported(file, "the movie fragment boxes total more than " + MAX_MOOV_BYTES
              + " bytes (the limit)");
        }
        byte[] buf = new byte[(int) boxSize];
        readFully(ch, ByteBuffer.wrap(buf), pos);
        fragments.add(new Fragment(Box.wrap("moof", buf, 0, header, buf.length), pos));
      }
      if (past) {
        pos = Long.MAX_VALUE; // a box (mdat) cut off by the end of the file
        break;
      }
      pos += boxSize;
    }
    if (moov != null) {
      return moov;
    }
    if (!fragments.isEmpty()) {
      throw unsupported(file, "a fragmented MP4 media segment without its initialization segment"
          + " (no moov box); join the init segment and the media segments into one file first");
    }
    if (pos > size) {
      throw corrupt(file, "the file is truncated (it ends inside a box and has no moov index box);"
          + " re-download or re-export it");
    }
    throw corrupt(file, "no moov index box found: the file is truncated, still being written, or"
        + " not an MP4/MOV video");
  }

  /** Whether the moov has an mvex box; a malformed moov counts as not (parse reports it). */
  private static boolean declaresFragments(Box moov) {
    try {
      return moov.child("mvex") != null;
    } catch (Box.MalformedBoxException e) {
      return false;
    }
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

  static void readFully(SeekableByteChannel ch, ByteBuffer dst, long pos) throws IOException {
    FileChannel fc = ch instanceof FileChannel f ? f : null; // positional reads leave a file's position alone
    while (dst.hasRemaining()) {
      int n = fc != null ? fc.read(dst, pos) : ch.position(pos).read(dst);
      if (n < 0) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      pos += n;
    }
  }

  private static Mp4Movie parse(Path file, long fileSize, Box moov, List<Fragment> fragments) {
    Box mvhd = moov.child("mvhd");
    if (mvhd == null) {
      throw corrupt(file, "the moov box has no mvhd header");
    }
    requireLayout(file, mvhd, 100, 112);
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
    VideoTrack v = parseVideo(file, fileSize, movieTs, moov, videoTrak, fragments);
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

  /**
   * Refuses a full box shorter than its standard layout ({@code v0}/{@code v1} payload bytes by
   * version), so that every field a reader or the remuxer copies is present.
   */
  private static void requireLayout(Path file, Box b, int v0, int v1) {
    int version = b.u8(0);
    if (version > 1) {
      throw corrupt(file, "the '" + b.type + "' box has an unknown version " + version + "; "
          + REMUX_HINT);
    }
    int need = version == 1 ? v1 : v0;
    if (b.payloadSize() < need) {
      throw corrupt(file, "the '" + b.type + "' box is " + b.payloadSize() + " bytes, shorter than"
          + " the " + need + " bytes of its layout; " + REMUX_HINT);
    }
  }

  private static VideoTrack parseVideo(Path file, long fileSize, long movieTs, Box moov, Box trak,
      List<Fragment> fragments) {
    VideoTrack v = new VideoTrack();
    v.trak = trak;
    v.tkhd = need(file, trak, "tkhd");
    v.mdhd = need(file, trak, "mdia", "mdhd");
    Box stbl = need(file, trak, "mdia", "minf", "stbl");
    v.stsd = need(file, stbl, "stsd");
    v.edts = trak.child("edts");
    requireLayout(file, v.tkhd, 84, 96);
    requireLayout(file, v.mdhd, 24, 36);
    v.trackId = v.tkhd.u8(0) == 1 ? v.tkhd.u32(20) : v.tkhd.u32(12);
    boolean v1 = v.mdhd.u8(0) == 1;
    v.mediaTimescale = v1 ? v.mdhd.u32(20) : v.mdhd.u32(12);
    long mdhdDuration = stated(v1 ? v.mdhd.s64(24) : v.mdhd.u32(16), v1);
    if (v.mediaTimescale <= 0) {
      throw corrupt(file, "the video track's time scale is 0");
    }
    if (mdhdDuration < 0) {
      throw corrupt(file, "the media header states a negative duration; " + REMUX_HINT);
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

    Samples s = new Samples();
    long dtsEnd = readSampleTable(file, fileSize, stbl, s);
    Box mvex = moov.child("mvex");
    long mehd = 0;
    if (mvex != null) {
      Box mehdBox = mvex.child("mehd");
      if (mehdBox != null) {
        boolean mv1 = mehdBox.u8(0) == 1;
        mehd = stated(mv1 ? mehdBox.s64(4) : mehdBox.u32(4), mv1);
        if (mehd < 0) {
          throw corrupt(file, "the movie extends header (mehd) states a negative duration; "
              + REMUX_HINT);
        }
      }
      dtsEnd = readFragments(file, fileSize, mvex, v.trackId, fragments, s, dtsEnd);
      v.fragmented = !fragments.isEmpty();
    }
    int n = s.n;
    v.sampleCount = n;
    v.offsets = Arrays.copyOf(s.offsets, n);
    v.sizes = Arrays.copyOf(s.sizes, n);
    v.dts = Arrays.copyOf(s.dts, n);
    v.ctsOffsets = Arrays.copyOf(s.cts, n);
    v.sync = Arrays.copyOf(s.sync, n);
    v.dtsEnd = dtsEnd;
    for (int i = 0; i < n; i++) {
      if (v.offsets[i] < 0 || v.offsets[i] > fileSize - v.sizes[i]) {
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
          if (segDur < 0 || mediaTime < -1) {
            throw corrupt(file, "the edit list has an invalid entry (duration " + segDur
                + ", media time " + mediaTime + "); " + REMUX_HINT);
          }
          editDuration = addExact(file, editDuration, segDur);
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
    try {
      for (int i = 0; i < n; i++) {
        v.pts[i] = Math.addExact(v.dts[i] + v.ctsOffsets[i], shiftMedia);
      }
    } catch (ArithmeticException e) {
      throw corrupt(file, "the edit list shifts the frames out of range (by " + shiftMedia
          + " ticks); " + REMUX_HINT);
    }
    v.mediaDuration = !v.fragmented && mdhdDuration > 0 ? mdhdDuration : dtsEnd;
    if (editDuration > 0 && !(v.fragmented && mehd > 0)) {
      v.durationTicks = editDuration;
      v.durationTimescale = movieTs;
    } else if (v.fragmented && mehd > 0) {
      v.durationTicks = mehd;
      v.durationTimescale = movieTs;
    } else if (v.fragmented) {
      v.durationTicks = Math.max(0, dtsEnd + shiftMedia);
      v.durationTimescale = v.mediaTimescale;
    } else {
      v.durationTicks = v.mediaDuration;
      v.durationTimescale = v.mediaTimescale;
    }
    if (n > 0) {
      checkDurations(file, v, movieTs, shiftMedia, editDuration, mdhdDuration, mehd);
    }
    return v;
  }

  /** A header duration, 0 when it is all ones (ISO/IEC 14496-12: "duration unknown"). */
  private static long stated(long duration, boolean wide) {
    return duration == (wide ? -1L : 0xffffffffL) ? 0 : duration;
  }

  private static long addExact(Path file, long a, long b) {
    try {
      return Math.addExact(a, b);
    } catch (ArithmeticException e) {
      throw corrupt(file, "a duration in the index overflows; " + REMUX_HINT);
    }
  }

  /** Reads stsz/stts/ctts/stss/stsc/stco of the moov; returns the decode time after the last. */
  private static long readSampleTable(Path file, long fileSize, Box stbl, Samples out) {
    Box stsz = stbl.child("stsz");
    Box stts = need(file, stbl, "stts");
    if (stsz == null) {
      throw corrupt(file, "the video track has no sample size table (stsz); compact stz2 tables"
          + " are not supported");
    }
    long fixed = stsz.u32(4);
    long count = stsz.u32(8);
    if (count > MAX_SAMPLES) {
      throw unsupported(file, "the video has " + count + " frames (limit " + MAX_SAMPLES + ")");
    }
    if (count > fileSize) {
      throw corrupt(file, "the sample table claims " + count + " frames in a file of " + fileSize
          + " bytes; " + REMUX_HINT);
    }
    int n = (int) count;
    long[] sizes = new long[n];
    for (int i = 0; i < n; i++) {
      sizes[i] = fixed != 0 ? fixed : stsz.u32(12 + 4 * i);
    }

    // Decode times.
    long[] dts = new long[n];
    long sttsEntries = stts.u32(4);
    int k = 0;
    long t = 0;
    for (int e = 0; e < sttsEntries && k < n; e++) {
      long c = stts.u32(8 + 8 * e);
      long d = stts.u32(12 + 8 * e);
      for (long j = 0; j < c && k < n; j++) {
        dts[k++] = t;
        t += d;
      }
    }
    if (k < n) {
      throw corrupt(file, "the time-to-sample table covers " + k + " of " + n + " frames");
    }

    // Composition offsets (signed, as most readers treat version 0 too).
    long[] cts = new long[n];
    Box ctts = stbl.child("ctts");
    if (ctts != null) {
      long ce = ctts.u32(4);
      k = 0;
      for (int e = 0; e < ce && k < n; e++) {
        long c = ctts.u32(8 + 8 * e);
        int off = ctts.s32(12 + 8 * e);
        for (long j = 0; j < c && k < n; j++) {
          cts[k++] = off;
        }
      }
    }

    // Sync samples: without stss every sample is one.
    boolean[] sync = new boolean[n];
    Box stss = stbl.child("stss");
    if (stss == null) {
      Arrays.fill(sync, true);
    } else {
      long se = stss.u32(4);
      for (int e = 0; e < se; e++) {
        long idx = stss.u32(8 + 4 * e);
        if (idx >= 1 && idx <= n) {
          sync[(int) idx - 1] = true;
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
    long[] offsets = new long[n];
    k = 0;
    int se = 0;
    for (long chunk = 0; chunk < chunks && k < n; chunk++) {
      while (se + 1 < stscCount && stsc.u32(8 + 12 * (se + 1)) - 1 <= chunk) {
        se++;
      }
      long per = stsc.u32(8 + 12 * se + 4);
      long off = stco != null ? stco.u32(8 + 4 * (int) chunk) : co64.s64(8 + 8 * (int) chunk);
      for (long j = 0; j < per && k < n; j++) {
        offsets[k] = off;
        off += sizes[k];
        k++;
      }
    }
    if (k < n) {
      throw corrupt(file, "the chunk tables locate only " + k + " of " + n + " frames");
    }
    for (int i = 0; i < n; i++) {
      out.add(file, offsets[i], sizes[i], dts[i], cts[i], sync[i]);
    }
    return t;
  }

  /**
   * Adds the video track's samples from every movie fragment; returns the decode time after the
   * last sample.
   */
  private static long readFragments(Path file, long fileSize, Box mvex, long trackId,
      List<Fragment> fragments, Samples out, long dtsEnd) {
    Map<Long, Defaults> trex = new HashMap<>();
    for (Box b : mvex.children()) {
      if (b.type.equals("trex")) {
        Defaults d = new Defaults();
        d.descriptionIndex = b.u32(8);
        d.duration = b.u32(12);
        d.size = b.u32(16);
        d.flags = b.u32(20);
        trex.put(b.u32(4), d);
      }
    }
    long samplesSeen = out.n;
    long nextDts = dtsEnd;
    int fragmentNo = 0;
    for (Fragment f : fragments) {
      fragmentNo++;
      long prevTrafEnd = f.filePos;
      for (Box traf : f.moof.children()) {
        if (!traf.type.equals("traf")) {
          continue;
        }
        Box tfhd = traf.child("tfhd");
        if (tfhd == null) {
          throw corrupt(file, "movie fragment " + fragmentNo + " has a track fragment without a"
              + " tfhd header; " + REMUX_HINT);
        }
        long flags = tfhd.u32(0) & 0xffffff;
        long tid = tfhd.u32(4);
        boolean ours = tid == trackId;
        Defaults d = trex.get(tid);
        if (d == null) {
          if (ours) {
            throw corrupt(file, "the video track has movie fragments but no trex defaults in"
                + " mvex; " + REMUX_HINT);
          }
          d = new Defaults();
        }
        int p = 8;
        long base;
        if ((flags & 0x1) != 0) {
          base = tfhd.s64(p);
          p += 8;
        } else if ((flags & 0x20000) != 0) {
          base = f.filePos;
        } else {
          base = prevTrafEnd;
        }
        long descIndex = d.descriptionIndex;
        if ((flags & 0x2) != 0) {
          descIndex = tfhd.u32(p);
          p += 4;
        }
        long defDuration = d.duration;
        if ((flags & 0x8) != 0) {
          defDuration = tfhd.u32(p);
          p += 4;
        }
        long defSize = d.size;
        if ((flags & 0x10) != 0) {
          defSize = tfhd.u32(p);
          p += 4;
        }
        long defFlags = d.flags;
        if ((flags & 0x20) != 0) {
          defFlags = tfhd.u32(p);
        }
        long t = nextDts;
        Box tfdt = traf.child("tfdt");
        if (ours && tfdt != null) {
          long start = tfdt.u8(0) == 1 ? tfdt.s64(4) : tfdt.u32(4);
          if (start > MAX_TICKS) {
            throw corrupt(file, "movie fragment " + fragmentNo + " starts at an implausible decode"
                + " time (" + start + " ticks); " + REMUX_HINT);
          }
          if (start < nextDts) {
            throw corrupt(file, "movie fragment " + fragmentNo + " starts at decode time " + start
                + " before the previous fragment ends (" + nextDts + " ticks); " + REMUX_HINT);
          }
          t = start;
        }
        long dataPos = base;
        for (Box trun : traf.children()) {
          if (!trun.type.equals("trun")) {
            continue;
          }
          if (ours && descIndex != 1) {
            throw unsupported(file, "movie fragment " + fragmentNo + " switches to sample"
                + " description " + descIndex + " (parameters change midway); re-encode it to"
                + " one H.264 stream");
          }
          long rf = trun.u32(0) & 0xffffff;
          long count = trun.u32(4);
          samplesSeen += count;
          if (samplesSeen > fileSize) {
            throw corrupt(file, "the movie fragments claim " + samplesSeen + " samples in a file"
                + " of " + fileSize + " bytes; " + REMUX_HINT);
          }
          int q = 8;
          if ((rf & 0x1) != 0) {
            dataPos = base + trun.s32(q);
            q += 4;
          }
          boolean hasFirst = (rf & 0x4) != 0;
          long firstFlags = 0;
          if (hasFirst) {
            firstFlags = trun.u32(q);
            q += 4;
          }
          for (long i = 0; i < count; i++) {
            long dur = defDuration;
            if ((rf & 0x100) != 0) {
              dur = trun.u32(q);
              q += 4;
            }
            long size = defSize;
            if ((rf & 0x200) != 0) {
              size = trun.u32(q);
              q += 4;
            }
            long sf = i == 0 && hasFirst ? firstFlags : defFlags;
            if ((rf & 0x400) != 0) {
              sf = trun.u32(q);
              q += 4;
            }
            long cts = 0;
            if ((rf & 0x800) != 0) {
              cts = trun.s32(q); // signed as in version 1; version 0 values fit too
              q += 4;
            }
            if (ours) {
              out.add(file, dataPos, size, t, cts, (sf & 0x10000) == 0);
              t += dur;
            }
            dataPos += size;
          }
        }
        prevTrafEnd = dataPos;
        if (ours) {
          nextDts = t;
        }
      }
    }
    return nextDts;
  }

  /** Applies the duration rule of the class comment to every duration the file states. */
  private static void checkDurations(Path file, VideoTrack v, long movieTs, long shiftMedia,
      long editDuration, long mdhdDuration, long mehd) {
    int n = v.sampleCount;
    double ts = v.mediaTimescale;
    long mediaEnd = Long.MIN_VALUE;
    long mediaStart = Long.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      long next = i + 1 < n ? v.dts[i + 1] : v.dtsEnd;
      long cts = v.dts[i] + v.ctsOffsets[i];
      mediaEnd = Math.max(mediaEnd, cts + (next - v.dts[i]));
      mediaStart = Math.min(mediaStart, cts);
    }
    double frame = (v.dtsEnd - v.dts[0]) / ts / n;
    if (!(frame > 0)) {
      throw corrupt(file, "the video's frames have no duration (all " + n + " decode times are "
          + v.dts[0] + "); " + REMUX_HINT);
    }
    double slack = frame + 1.0 / movieTs;
    double mEnd = mediaEnd / ts;
    double mStart = mediaStart / ts;
    double pEnd = (mediaEnd + shiftMedia) / ts;
    double pStart = (mediaStart + shiftMedia) / ts;
    if (!v.fragmented) {
      check(file, "the media header (mdhd)", mdhdDuration / ts, mEnd, mStart, slack);
      boolean tv1 = v.tkhd.u8(0) == 1;
      long tkhd = stated(tv1 ? v.tkhd.s64(28) : v.tkhd.u32(20), tv1);
      check(file, "the track header (tkhd)", tkhd / (double) movieTs, pEnd, pStart, slack);
    } else {
      check(file, "the movie extends header (mehd)", mehd / (double) movieTs, pEnd, pStart,
          slack);
    }
    check(file, "the edit list (elst)", editDuration / (double) movieTs, pEnd, pStart, slack);
  }

  private static void check(Path file, String what, double stated, double end, double start,
      double slack) {
    if (stated == 0 || Math.abs(end - stated) <= slack || Math.abs(end - start - stated) <= slack) {
      return;
    }
    throw corrupt(file, String.format(Locale.ROOT, "%s says the video lasts %.3f s but its frames"
        + " end at %.3f s (first frame at %.3f s); the header is damaged or was edited: %s to"
        + " rewrite the header from the frames, or re-export the video", what, stated, end, start,
        REMUX_HINT));
  }
}
