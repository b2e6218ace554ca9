package io.foley4j.jcodec;

import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSources;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jcodec.codecs.h264.H264Decoder;
import org.jcodec.codecs.h264.H264Utils;
import org.jcodec.codecs.h264.io.model.SeqParameterSet;
import org.jcodec.codecs.h264.io.model.VUIParameters;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Rect;

/**
 * {@link VideoSource} over MP4/MOV H.264 with jcodec's decoder. Our own box parser supplies the
 * samples and their presentation times; jcodec decodes in decode order and a reorder window, sized
 * from the sample table at open time, restores presentation order. Not thread-safe.
 *
 * <p>Open refuses, before anything is decoded: paths that are not regular files ({@code
 * INVALID_ARGUMENT}), other containers by name ({@code UNSUPPORTED_VIDEO}), and files whose stated
 * duration disagrees with their frames ({@code CORRUPT_VIDEO}): with E the end of the last frame
 * (largest pts plus its sample duration), P0 the first frame's pts and F the mean sample duration,
 * every stated duration D (edit list total, tkhd, mdhd on the media timeline, mehd) must satisfy
 * {@code |E - D| <= F} or {@code |E - P0 - D| <= F}, plus one movie tick; see {@link Mp4Movie}.
 * Fragmented MP4 is read fragment by fragment, see {@link Mp4Movie}.
 */
final class JcodecVideoSource implements VideoSource {
  private static final System.Logger LOG = System.getLogger(JcodecVideoSource.class.getName());

  static final int MAX_DIMENSION = 8192;
  static final long MAX_PIXELS = 8192L * 4352L;
  static final int MAX_REORDER_DEPTH = 16;
  private static final byte[] START_CODE = {0, 0, 0, 1};

  private final Path file;
  private final Mp4Movie.VideoTrack track;
  private final VideoInfo info;
  private final int nalLengthSize;
  private final List<byte[]> sps;
  private final List<byte[]> pps;
  private final boolean bt709;
  private final boolean fullRange;
  private final long[] suffixMinPts;
  private final int reorderDepth;
  private final PriorityQueue<DecodedFrame> window =
      new PriorityQueue<>(Comparator.comparingLong(DecodedFrame::ptsTicks));
  private final AtomicBoolean closed = new AtomicBoolean();
  private SeekableByteChannel channel;
  private H264Decoder decoder;
  private ExecutorService leftoverPool;
  private byte[][] pictureBuffer;
  private ByteBuffer packet = ByteBuffer.allocate(1 << 16);
  private ByteBuffer annexB = ByteBuffer.allocate(1 << 16);
  private int nextSample;
  private boolean paramsSent;
  private int maxHeld;

  private JcodecVideoSource(Path file, Mp4Movie.VideoTrack track, VideoInfo info, int nalLengthSize,
      List<byte[]> sps, List<byte[]> pps, boolean bt709, boolean fullRange, long[] suffixMinPts,
      int reorderDepth, SeekableByteChannel channel) {
    this.file = file;
    this.track = track;
    this.info = info;
    this.nalLengthSize = nalLengthSize;
    this.sps = sps;
    this.pps = pps;
    this.bt709 = bt709;
    this.fullRange = fullRange;
    this.suffixMinPts = suffixMinPts;
    this.reorderDepth = reorderDepth;
    this.channel = channel;
  }

  static JcodecVideoSource open(Path file) {
    Mp4Movie movie = Mp4Movie.read(file);
    return open(file, movie, () -> FileChannel.open(file, StandardOpenOption.READ));
  }

  /**
   * Opens a video held in memory: {@code bytes} from its position to its limit, read through a
   * {@link MemoryChannel} (never copied). The buffer must not change while the source is open.
   */
  static JcodecVideoSource open(ByteBuffer bytes) {
    ByteBuffer view = bytes.slice().asReadOnlyBuffer();
    Path name = Path.of(VideoSources.memoryLabel(view.remaining())); // names the video in messages only
    Mp4Movie movie = Mp4Movie.read(name, new MemoryChannel(view));
    return open(name, movie, () -> new MemoryChannel(view));
  }

  private interface ChannelOpener {
    SeekableByteChannel open() throws IOException;
  }

  private static JcodecVideoSource open(Path file, Mp4Movie movie, ChannelOpener opener) {
    Mp4Movie.VideoTrack t = movie.video;
    if (!t.fourcc.equals("avc1") && !t.fourcc.equals("avc3")) {
      throw Mp4Movie.unsupported(file, "the video codec is " + codecName(t.fourcc) + " ('"
          + t.fourcc.trim() + "'); only H.264 (avc1) is supported by the jcodec decoder: convert it"
          + " (ffmpeg -i in -c:v libx264 -pix_fmt yuv420p out.mp4) or plug in another"
          + " VideoSourceFactory");
    }
    if (t.sampleCount == 0) {
      throw Mp4Movie.corrupt(file, "the video track has zero frames");
    }
    int nalLen = 4;
    List<byte[]> spsList = new ArrayList<>();
    List<byte[]> ppsList = new ArrayList<>();
    if (t.avcC != null) {
      nalLen = parseAvcC(file, t.avcC, spsList, ppsList);
    } else if (t.fourcc.equals("avc1")) {
      throw Mp4Movie.corrupt(file, "the H.264 sample entry has no avcC configuration box");
    }
    SeekableByteChannel ch = null;
    try {
      ch = opener.open();
      if (spsList.isEmpty()) {
        // avc3: parameter sets in-band; look in the first frame.
        ByteBuffer first = ByteBuffer.allocate(t.sizes[0]);
        Mp4Movie.readFully(ch, first, t.offsets[0]);
        for (byte[] nal : splitLengthPrefixed(file, first.array(), t.sizes[0], nalLen, 0)) {
          if (nal.length > 0 && (nal[0] & 0x1f) == 7) {
            spsList.add(nal);
          }
        }
        if (spsList.isEmpty()) {
          throw Mp4Movie.corrupt(file, "no H.264 sequence parameter set (SPS) found");
        }
      }
      checkSpsFormat(file, spsList.get(0));
      SeqParameterSet s = readSps(file, spsList.get(0));
      int[] dims = validateSps(file, s);
      VUIParameters vui = s.vuiParams;
      boolean full = vui != null && vui.videoSignalTypePresentFlag && vui.videoFullRangeFlag;
      boolean is709 = vui != null && vui.colourDescriptionPresentFlag
          && vui.matrixCoefficients == 1;
      long[] suffix = new long[t.sampleCount + 1];
      int depth = reorderDepth(file, t.pts, suffix);
      long lastPts = -1;
      for (long p : t.pts) {
        lastPts = Math.max(lastPts, p);
      }
      VideoInfo info = new VideoInfo(dims[0], dims[1], "h264", t.durationTicks,
          t.durationTimescale, t.sampleCount, lastPts, t.mediaTimescale);
      JcodecVideoSource src = new JcodecVideoSource(file, t, info, nalLen, spsList, ppsList, is709,
          full, suffix, depth, ch);
      src.decoder = src.newDecoder();
      ch = null;
      return src;
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO,
          "cannot read video file " + file + ": " + e.getMessage(), e);
    } finally {
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
    }
  }

  static String codecName(String fourcc) {
    switch (fourcc) {
      case "hvc1":
      case "hev1":
        return "HEVC/H.265";
      case "av01":
        return "AV1";
      case "vp09":
        return "VP9";
      case "vp08":
        return "VP8";
      case "mp4v":
        return "MPEG-4 Part 2";
      case "jpeg":
      case "mjpa":
        return "Motion JPEG";
      case "apcn":
      case "apch":
      case "apcs":
      case "apco":
      case "ap4h":
        return "Apple ProRes";
      default:
        return "'" + fourcc + "'";
    }
  }

  /** Parses an AVCDecoderConfigurationRecord; returns the NAL length size. */
  static int parseAvcC(Path file, byte[] c, List<byte[]> spsOut, List<byte[]> ppsOut) {
    try {
      int p = 4;
      int nalLen = (c[p++] & 3) + 1;
      int nSps = c[p++] & 0x1f;
      for (int i = 0; i < nSps; i++) {
        int len = ((c[p] & 0xff) << 8) | (c[p + 1] & 0xff);
        p += 2;
        spsOut.add(Arrays.copyOfRange(c, p, checkEnd(p + len, c.length)));
        p += len;
      }
      int nPps = c[p++] & 0xff;
      for (int i = 0; i < nPps; i++) {
        int len = ((c[p] & 0xff) << 8) | (c[p + 1] & 0xff);
        p += 2;
        ppsOut.add(Arrays.copyOfRange(c, p, checkEnd(p + len, c.length)));
        p += len;
      }
      if (nalLen == 3) {
        throw Mp4Movie.corrupt(file, "invalid avcC NAL length size 3");
      }
      return nalLen;
    } catch (IndexOutOfBoundsException e) {
      throw Mp4Movie.corrupt(file, "the H.264 configuration (avcC) is truncated", e);
    }
  }

  private static int checkEnd(int end, int len) {
    if (end > len) {
      throw new IndexOutOfBoundsException("avcC entry past end");
    }
    return end;
  }

  static SeqParameterSet readSps(Path file, byte[] nal) {
    try {
      if (nal.length < 4) {
        throw new IllegalArgumentException("SPS of " + nal.length + " bytes");
      }
      return H264Utils.readSPS(ByteBuffer.wrap(nal, 1, nal.length - 1).slice());
    } catch (RuntimeException e) {
      throw Mp4Movie.corrupt(file, "the H.264 sequence parameter set cannot be parsed ("
          + e + ")", e);
    }
  }

  /** High profiles whose SPS carries chroma_format_idc and bit depths (H.264 7.3.2.1.1). */
  private static final int[] CHROMA_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138,
      139, 134, 135};

  /**
   * Reads the start of an SPS NAL unit ourselves (jcodec 0.2.5 only knows the chroma fields for
   * some profiles and misparses e.g. High 4:4:4 Predictive, profile 244) and refuses what the
   * decoder cannot handle: chroma other than 4:2:0 and bit depths other than 8.
   */
  static void checkSpsFormat(Path file, byte[] nal) {
    int profile;
    int chroma = 1;
    int lumaDepth = 8;
    int chromaDepth = 8;
    try {
      ExpGolomb r = new ExpGolomb(nal, 1);
      profile = r.bits(8);
      r.bits(16); // constraint flags, level
      r.ue(); // seq_parameter_set_id
      for (int p : CHROMA_PROFILES) {
        if (p == profile) {
          chroma = r.ue();
          if (chroma == 3) {
            r.bits(1); // separate_colour_plane_flag
          }
          lumaDepth = 8 + r.ue();
          chromaDepth = 8 + r.ue();
          break;
        }
      }
    } catch (IndexOutOfBoundsException e) {
      throw Mp4Movie.corrupt(file, "the H.264 sequence parameter set is truncated", e);
    }
    if (chroma > 3 || lumaDepth > 14 || chromaDepth > 14) {
      throw Mp4Movie.corrupt(file, "the H.264 sequence parameter set is invalid (chroma format "
          + chroma + ", bit depth " + lumaDepth + "/" + chromaDepth + ")");
    }
    if (lumaDepth != 8 || (chroma != 0 && chromaDepth != 8)) {
      throw Mp4Movie.unsupported(file, "the H.264 stream is " + lumaDepth + "-bit (profile "
          + profile + "); only 8-bit is supported: re-encode with -pix_fmt yuv420p");
    }
    if (chroma != 1) {
      String name = chroma == 0 ? "4:0:0 (monochrome)" : chroma == 2 ? "4:2:2" : "4:4:4";
      throw Mp4Movie.unsupported(file, "the H.264 stream uses " + name + " chroma (profile "
          + profile + "); only 4:2:0 is supported: re-encode with -pix_fmt yuv420p");
    }
  }

  /** Reads bits and unsigned Exp-Golomb codes from a NAL unit, skipping emulation prevention. */
  private static final class ExpGolomb {
    private final byte[] d;
    private int pos;
    private int bit = 8;
    private int cur;
    private int zeros;

    ExpGolomb(byte[] d, int from) {
      this.d = d;
      this.pos = from;
    }

    private int bit() {
      if (bit == 8) {
        if (pos >= d.length) {
          throw new IndexOutOfBoundsException("end of NAL unit");
        }
        cur = d[pos++] & 0xff;
        if (zeros >= 2 && cur == 3) {
          zeros = 0;
          if (pos >= d.length) {
            throw new IndexOutOfBoundsException("end of NAL unit");
          }
          cur = d[pos++] & 0xff;
        }
        zeros = cur == 0 ? zeros + 1 : 0;
        bit = 0;
      }
      return (cur >> (7 - bit++)) & 1;
    }

    int bits(int n) {
      int v = 0;
      for (int i = 0; i < n; i++) {
        v = (v << 1) | bit();
      }
      return v;
    }

    int ue() {
      int lead = 0;
      while (bit() == 0) {
        if (++lead > 31) {
          throw new IndexOutOfBoundsException("Exp-Golomb code longer than 32 bits");
        }
      }
      return (int) Math.min(Integer.MAX_VALUE, (1L << lead) - 1 + ((long) bits(lead) & 0xffffffffL));
    }
  }

  /** Checks what jcodec can decode; returns {width, height} after cropping. */
  static int[] validateSps(Path file, SeqParameterSet s) {
    ColorSpace cs = s.chromaFormatIdc;
    if (s.bitDepthLumaMinus8 != 0 || s.bitDepthChromaMinus8 != 0
        || (cs != ColorSpace.YUV420 && cs != ColorSpace.YUV420J)) {
      // checkSpsFormat read these fields as 8-bit 4:2:0; jcodec disagrees
      throw Mp4Movie.unsupported(file, "the H.264 sequence parameter set is read by jcodec as "
          + (s.bitDepthLumaMinus8 + 8) + "-bit " + cs + " (profile " + s.profileIdc + "); only"
          + " 8-bit 4:2:0 is supported: re-encode with -pix_fmt yuv420p");
    }
    if (!s.frameMbsOnlyFlag) {
      throw Mp4Movie.unsupported(file, "the H.264 stream is interlaced ("
          + (s.mbAdaptiveFrameFieldFlag ? "MBAFF" : "field/PAFF coding")
          + "); only progressive video is supported: deinterlace it (ffmpeg -vf yadif)");
    }
    long mbW = s.picWidthInMbsMinus1 + 1L;
    long mbH = s.picHeightInMapUnitsMinus1 + 1L;
    long w = mbW * 16;
    long h = mbH * 16;
    if (s.frameCroppingFlag) {
      w -= 2L * (s.frameCropLeftOffset + s.frameCropRightOffset);
      h -= 2L * (s.frameCropTopOffset + s.frameCropBottomOffset);
    }
    if (w <= 0 || h <= 0) {
      throw Mp4Movie.corrupt(file, "the H.264 stream has an invalid size " + w + "x" + h);
    }
    if (w > MAX_DIMENSION || h > MAX_DIMENSION || w * h > MAX_PIXELS) {
      throw Mp4Movie.unsupported(file, "the video is " + w + "x" + h + " pixels; the limit is "
          + MAX_DIMENSION + " per side and " + MAX_PIXELS + " pixels: scale it down first");
    }
    return new int[] {(int) w, (int) h};
  }

  /**
   * Computes the reorder window: after decoding sample i, every buffered frame with a pts no later
   * than the smallest pts still to be decoded can be emitted. Fills {@code suffix} with those
   * suffix minima and returns the largest window that occurs.
   */
  static int reorderDepth(Path file, long[] pts, long[] suffix) {
    int n = pts.length;
    suffix[n] = Long.MAX_VALUE;
    for (int i = n - 1; i >= 0; i--) {
      suffix[i] = Math.min(pts[i], suffix[i + 1]);
    }
    long[] sorted = pts.clone();
    Arrays.sort(sorted);
    for (int i = 1; i < n; i++) {
      if (sorted[i] == sorted[i - 1]) {
        throw Mp4Movie.corrupt(file, "two frames share the presentation time " + sorted[i]
            + " (timescale ticks); the timing tables are broken: remux with ffmpeg");
      }
    }
    PriorityQueue<Long> q = new PriorityQueue<>();
    int max = 0;
    for (int i = 0; i < n; i++) {
      q.add(pts[i]);
      max = Math.max(max, q.size());
      while (!q.isEmpty() && q.peek() <= suffix[i + 1]) {
        q.poll();
      }
    }
    if (max > MAX_REORDER_DEPTH) {
      throw Mp4Movie.unsupported(file, "frames would need a reorder window of " + max
          + " frames (limit " + MAX_REORDER_DEPTH + "); the timing tables look broken");
    }
    return max;
  }

  /**
   * A jcodec decoder without its private thread pool. jcodec 0.2.5's constructor creates
   * {@code Executors.newFixedThreadPool(nCPU)} (daemon threads, started lazily when a frame has
   * several slices) and never shuts it down (jcodec #505). We switch it to single-threaded mode and
   * shut the (still empty) pool down; if reflection is refused, the pool is shut down on close.
   */
  private H264Decoder newDecoder() {
    H264Decoder d = new H264Decoder();
    ExecutorService pool = null;
    try {
      Field tp = H264Decoder.class.getDeclaredField("tp");
      tp.setAccessible(true);
      pool = (ExecutorService) tp.get(d);
      Field threaded = H264Decoder.class.getDeclaredField("threaded");
      threaded.setAccessible(true);
      threaded.setBoolean(d, false);
      if (pool != null) {
        pool.shutdownNow();
      }
      tp.set(d, null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot disable jcodec's decoder thread pool ({0}); it"
          + " will be shut down when the source closes", e.toString());
      leftoverPool = pool;
    }
    return d;
  }

  /** The executor jcodec would use, for tests (null when disabled). */
  ExecutorService jcodecPool() {
    try {
      Field tp = H264Decoder.class.getDeclaredField("tp");
      tp.setAccessible(true);
      return (ExecutorService) tp.get(decoder);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public VideoInfo info() {
    return info;
  }

  /** Frames currently buffered for reordering (package-private, for tests). */
  int bufferedFrames() {
    return window.size();
  }

  /** The most frames ever buffered at once. */
  int maxBufferedFrames() {
    return maxHeld;
  }

  /** The reorder window computed from the sample table. */
  int reorderDepth() {
    return reorderDepth;
  }

  @Override
  public DecodedFrame next() {
    if (closed.get()) {
      throw new FoleyException(FoleyException.Code.CLOSED, "the video source for "
          + file.getFileName() + " is closed");
    }
    while (true) {
      DecodedFrame head = window.peek();
      if (head != null && head.ptsTicks() <= suffixMinPts[nextSample]) {
        return window.poll();
      }
      if (nextSample >= track.sampleCount) {
        return null;
      }
      int i = nextSample++;
      DecodedFrame f = decodeSample(i);
      if (f != null) {
        window.add(f);
        maxHeld = Math.max(maxHeld, window.size());
      }
    }
  }

  private DecodedFrame decodeSample(int i) {
    int size = track.sizes[i];
    if (packet.capacity() < size) {
      packet = ByteBuffer.allocate(Math.max(size, packet.capacity() * 2));
    }
    packet.clear().limit(size);
    try {
      Mp4Movie.readFully(channel, packet, track.offsets[i]);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read frame " + i + " of "
          + file + ": " + e.getMessage(), e);
    }
    List<byte[]> nals = splitLengthPrefixed(file, packet.array(), size, nalLengthSize, i);
    int total = 0;
    if (!paramsSent) {
      for (byte[] p : sps) {
        total += 4 + p.length;
      }
      for (byte[] p : pps) {
        total += 4 + p.length;
      }
    }
    for (byte[] n : nals) {
      total += 4 + n.length;
    }
    if (annexB.capacity() < total) {
      annexB = ByteBuffer.allocate(Math.max(total, annexB.capacity() * 2));
    }
    annexB.clear();
    if (!paramsSent) {
      for (byte[] p : sps) {
        annexB.put(START_CODE).put(p);
      }
      for (byte[] p : pps) {
        annexB.put(START_CODE).put(p);
      }
      paramsSent = true;
    }
    for (byte[] n : nals) {
      annexB.put(START_CODE).put(n);
    }
    annexB.flip();
    Picture pic;
    try {
      if (pictureBuffer == null) {
        int w16 = (info.width() + 15) & ~15;
        int h16 = (info.height() + 15) & ~15;
        pictureBuffer = Picture.create(w16, h16, ColorSpace.YUV420).getData();
      }
      pic = decoder.decodeFrame(annexB, pictureBuffer);
    } catch (RuntimeException | StackOverflowError e) {
      throw Mp4Movie.corrupt(file, "H.264 frame " + i + " of " + track.sampleCount
          + " cannot be decoded (" + e + "); the stream is damaged or uses a feature jcodec does"
          + " not support", e);
    }
    if (pic == null) {
      return null;
    }
    return copy(pic, track.pts[i]);
  }

  private DecodedFrame copy(Picture pic, long pts) {
    Rect crop = pic.getCrop();
    int cx = crop == null ? 0 : crop.getX();
    int cy = crop == null ? 0 : crop.getY();
    int w = info.width();
    int h = info.height();
    if (cx + w > pic.getPlaneWidth(0) || cy + h > pic.getPlaneHeight(0)) {
      throw Mp4Movie.corrupt(file, "a decoded picture (" + pic.getPlaneWidth(0) + "x"
          + pic.getPlaneHeight(0) + ") is smaller than the stream's " + w + "x" + h);
    }
    byte[] y = new byte[w * h];
    copyPlane(pic.getPlaneData(0), pic.getPlaneWidth(0), cx, cy, w, h, y);
    int cw = (w + 1) / 2;
    int ch = (h + 1) / 2;
    byte[] u = new byte[cw * ch];
    byte[] v = new byte[cw * ch];
    copyPlane(pic.getPlaneData(1), pic.getPlaneWidth(1), cx / 2, cy / 2, cw, ch, u);
    copyPlane(pic.getPlaneData(2), pic.getPlaneWidth(2), cx / 2, cy / 2, cw, ch, v);
    return DecodedFrame.ofYuv420(pts, track.mediaTimescale, w, h, y, u, v, bt709, fullRange);
  }

  /** Copies a region, converting jcodec's signed samples (v - 128) to unsigned bytes. */
  private static void copyPlane(byte[] src, int stride, int x, int y, int w, int h, byte[] dst) {
    for (int r = 0; r < h; r++) {
      int s = (y + r) * stride + x;
      int d = r * w;
      for (int c = 0; c < w; c++) {
        dst[d + c] = (byte) (src[s + c] + 128);
      }
    }
  }

  static List<byte[]> splitLengthPrefixed(Path file, byte[] data, int size, int lenSize,
      int sample) {
    List<byte[]> out = new ArrayList<>();
    int p = 0;
    while (p + lenSize <= size) {
      long len = 0;
      for (int k = 0; k < lenSize; k++) {
        len = (len << 8) | (data[p + k] & 0xff);
      }
      p += lenSize;
      if (len > size - p) {
        throw Mp4Movie.corrupt(file, "frame " + sample + " is damaged: a NAL unit of " + len
            + " bytes overruns the " + size + "-byte frame");
      }
      out.add(Arrays.copyOfRange(data, p, p + (int) len));
      p += (int) len;
    }
    return out;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    window.clear();
    pictureBuffer = null;
    if (leftoverPool != null) {
      leftoverPool.shutdownNow();
      leftoverPool = null;
    }
    try {
      channel.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing " + file + ": " + e);
    } finally {
      channel = null;
    }
  }
}
