package io.foley4j.ffmpeg;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AV1;
import static org.bytedeco.ffmpeg.global.avcodec.AV_PKT_DATA_DISPLAYMATRIX;
import static org.bytedeco.ffmpeg.global.avcodec.AV_PKT_FLAG_DISCARD;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_side_data_get;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_decoder;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_decoder_by_name;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_get_name;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_to_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_frame;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_packet;
import static org.bytedeco.ffmpeg.global.avformat.AVFMT_DURATION_FROM_BITRATE;
import static org.bytedeco.ffmpeg.global.avformat.AVFMT_TS_DISCONT;
import static org.bytedeco.ffmpeg.global.avformat.AV_DISPOSITION_ATTACHED_PIC;
import static org.bytedeco.ffmpeg.global.avformat.av_read_frame;
import static org.bytedeco.ffmpeg.global.avformat.avformat_alloc_context;
import static org.bytedeco.ffmpeg.global.avformat.avformat_find_stream_info;
import static org.bytedeco.ffmpeg.global.avformat.avformat_open_input;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_RANGE_JPEG;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_SPC_BT709;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EOF;
import static org.bytedeco.ffmpeg.global.avutil.AVMEDIA_TYPE_VIDEO;
import static org.bytedeco.ffmpeg.global.avutil.AV_NOPTS_VALUE;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUVJ420P;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUVJ422P;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUVJ444P;
import static org.bytedeco.ffmpeg.global.avutil.av_dict_get;
import static org.bytedeco.ffmpeg.global.avutil.av_display_rotation_get;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_unref;
import static org.bytedeco.ffmpeg.global.avutil.av_free;
import static org.bytedeco.ffmpeg.global.avutil.av_get_pix_fmt_name;
import static org.bytedeco.ffmpeg.global.avutil.av_malloc;
import static org.bytedeco.ffmpeg.global.avutil.av_strerror;
import static org.bytedeco.ffmpeg.global.swscale.SWS_BILINEAR;
import static org.bytedeco.ffmpeg.global.swscale.SWS_CS_DEFAULT;
import static org.bytedeco.ffmpeg.global.swscale.SWS_CS_ITU709;
import static org.bytedeco.ffmpeg.global.swscale.sws_freeContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_getCachedContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_getCoefficients;
import static org.bytedeco.ffmpeg.global.swscale.sws_scale;
import static org.bytedeco.ffmpeg.global.swscale.sws_setColorspaceDetails;

import io.foley4j.FoleyException;
import io.foley4j.UnsupportedVideoException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.StreamingVideo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSources;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVCodecParameters;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avcodec.AVPacketSideData;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVIOContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.ffmpeg.avutil.AVDictionaryEntry;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A video decoded by FFmpeg. Opening reads the video stream's packets once without decoding them
 * (frame count, first and last presentation time, truncation), then reopens the file and decodes
 * up to the first frame, so that a file that cannot be decoded fails at open. Frames come out in
 * presentation order, timed from the stream's own time base, converted to 8-bit YUV 4:2:0 (by
 * swscale for other layouts and depths) and turned upright by the display matrix. Each frame also
 * keeps the picture as decoded (its planes shared with the 4:2:0 ones for 8-bit 4:2:0 without
 * rotation), which {@link SwsRgb} converts to RGB as PyAV does when the frame is sampled.
 *
 * <p>Not thread-safe (see {@link VideoSource}); {@link #close()} is idempotent and may be called
 * from any thread once no {@link #next()} is running.
 */
final class FfmpegVideoSource implements VideoSource {
  private static final int EAGAIN = -11; // AVERROR(EAGAIN) on Linux

  private final Input file;
  private final Scan scan;
  private VideoInfo info; // the header's size until the first frame is decoded in open, then that frame's
  private final AtomicBoolean closed = new AtomicBoolean();
  private AVFormatContext fmt;
  private AVCodecContext dec;
  private AVPacket pkt;
  private AVFrame frame;
  private SwsContext sws;
  private final SwsRgb rgb;
  private BytePointer swsBuf;
  private int swsW = -1;
  private int swsH = -1;
  private boolean flushed;
  private Timeline timeline;
  private long lastTicks = -1;
  private long lastDuration; // of the last frame out, in ticks; 0 if unknown
  private DecodedFrame pending;

  private final String hardware; // an NVDEC decoder's name to try, or null
  private String decoderName;

  private FfmpegVideoSource(Input file, Scan scan, String hardware) {
    this.file = file;
    this.scan = scan;
    this.info = scan.info();
    this.hardware = hardware;
    this.rgb = new SwsRgb(file.toString());
  }

  static FfmpegVideoSource open(Path file, int decoderThreads) {
    return open(file, decoderThreads, false);
  }

  /**
   * Opens {@code file}; with {@code nvdec}, NVIDIA's decoder for its codec is tried first, and
   * any failure to open it or to decode the first frame with it (no driver, no GPU, a profile it
   * does not take) falls back to the software decoder.
   */
  static FfmpegVideoSource open(Path file, int decoderThreads, boolean nvdec) {
    VideoSources.requireRegularFile(file);
    return open(Input.of(file), decoderThreads, nvdec);
  }

  /**
   * Opens a video held in memory ({@code bytes} from its position to its limit, not copied), read
   * through a custom AVIOContext ({@link MemoryIo}) with read and seek callbacks.
   */
  static FfmpegVideoSource open(java.nio.ByteBuffer bytes, int decoderThreads, boolean nvdec) {
    return open(Input.of(bytes), decoderThreads, nvdec);
  }

  /**
   * Opens a video whose bytes are still arriving, for decoding as they come, or returns null when
   * it cannot start before the end (see {@link io.foley4j.video.VideoSourceFactory#openWhileReading}):
   * the header is read as the bytes arrive; if they all arrived meanwhile (an MP4 whose index follows
   * its samples makes FFmpeg read to it), or the container states no duration (MPEG-TS, Matroska
   * written live), the caller waits for the whole video and opens it as bytes in memory. Otherwise
   * there is no first pass over the packets: the duration is the one the header states, and the
   * frames are checked against it when they end ({@code CORRUPT_VIDEO} if they end early, or run
   * past it). Decodes in software (no NVDEC).
   */
  static FfmpegVideoSource openWhileReading(StreamingVideo video, int decoderThreads) {
    FfmpegNatives.load(null);
    Input in = Input.of(video);
    AVFormatContext fmt = openInput(in, false);
    FfmpegVideoSource s = null;
    try {
      if (video.complete()) {
        return null; // it arrived whole while the header was read: read as bytes, with the full checks
      }
      Scan scan = Scan.header(in, fmt);
      if (scan == null) {
        return null; // no stated duration: the plan needs the end
      }
      s = new FfmpegVideoSource(in, scan, null);
      s.fmt = fmt;
      fmt = null; // the source owns it
      s.openDecoder(Math.max(1, Math.min(decoderThreads, 16)));
      s.pending = s.decode();
      if (s.pending == null) {
        throw in.or(corrupt(in, "no frame decodes from its video stream"));
      }
      s.info = scan.info(s.pending);
      FfmpegVideoSource opened = s;
      s = null;
      return opened;
    } finally {
      AvFree.closeInput(fmt);
      if (s != null) {
        s.close();
      }
    }
  }

  private static FfmpegVideoSource open(Input file, int decoderThreads, boolean nvdec) {
    FfmpegNatives.load(null);
    Scan scan = Scan.read(file);
    String hw = nvdec ? NVDEC.get(scan.codec) : null;
    if (hw != null) {
      FfmpegVideoSource s = new FfmpegVideoSource(file, scan, hw);
      try {
        s.openDecoder(1);
        s.pending = s.decode();
        if (s.pending != null) {
          s.info = scan.info(s.pending);
          return s;
        }
      } catch (RuntimeException e) {
        // no driver, no GPU, or a stream the hardware refuses: software below
      }
      s.close();
    }
    FfmpegVideoSource s = new FfmpegVideoSource(file, scan, null);
    try {
      s.openDecoder(Math.max(1, Math.min(decoderThreads, 16)));
      s.pending = s.decode();
      if (s.pending == null) {
        throw corrupt(file, "its video stream has " + scan.count + " packets but no frame decodes from them");
      }
      s.info = scan.info(s.pending);
      return s;
    } catch (RuntimeException | Error e) {
      s.close();
      throw e;
    }
  }

  private static final java.util.Map<String, String> NVDEC = java.util.Map.of("h264", "h264_cuvid", "hevc",
      "hevc_cuvid", "vp9", "vp9_cuvid", "av1", "av1_cuvid", "vp8", "vp8_cuvid", "mjpeg", "mjpeg_cuvid");

  @Override
  public VideoInfo info() {
    return info;
  }

  /** The FFmpeg decoder in use, e.g. {@code "h264"} or {@code "hevc_cuvid"}. */
  String decoderName() {
    return decoderName;
  }

  @Override
  public DecodedFrame next() {
    if (closed.get()) {
      throw new FoleyException(FoleyException.Code.CLOSED, "the source of video " + file + " is closed");
    }
    if (pending != null) {
      DecodedFrame f = pending;
      pending = null;
      return f;
    }
    return decode();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (sws != null) {
      sws_freeContext(sws);
      sws = null;
    }
    rgb.close();
    if (swsBuf != null) {
      av_free(swsBuf);
      swsBuf = null;
    }
    frame = AvFree.free(frame);
    pkt = AvFree.free(pkt);
    dec = AvFree.free(dec);
    fmt = AvFree.closeInput(fmt);
    pending = null;
  }

  private void openDecoder(int threads) {
    if (fmt == null) {
      fmt = openInput(file, false); // the same header, the same decision as the scan's
    }
    AVStream st = fmt.streams(scan.stream);
    AVCodecParameters par = st.codecpar();
    AVCodec codec = hardware != null ? avcodec_find_decoder_by_name(hardware) : findDecoder(par.codec_id());
    if (codec != null && codec.isNull()) {
      codec = null;
    }
    String name = avcodec_get_name(par.codec_id()).getString();
    if (codec == null) {
      throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, "video " + file + " is " + name
          + ", which this FFmpeg build cannot decode (it decodes H.264, HEVC, VP8/VP9, AV1, ProRes, MJPEG, MPEG-4):"
          + " convert it, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4");
    }
    dec = avcodec_alloc_context3(codec);
    if (dec == null || avcodec_parameters_to_context(dec, par) < 0) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "cannot set up the " + name + " decoder for video " + file);
    }
    dec.pkt_timebase(st.time_base());
    dec.thread_count(threads);
    int r = avcodec_open2(dec, codec, (AVDictionary) null);
    if (r < 0) {
      throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, "cannot open the " + name
          + " decoder for video " + file + ": " + err(r));
    }
    decoderName = codec.name().getString();
    timeline = new Timeline(fmt, st);
    pkt = av_packet_alloc();
    frame = av_frame_alloc();
    if (pkt == null || frame == null) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "out of native memory opening video " + file);
    }
  }

  private static AVCodec findDecoder(int codecId) {
    if (codecId == AV_CODEC_ID_AV1) { // the native "av1" decoder needs a hardware accelerator
      for (String n : new String[] {"libdav1d", "libaom-av1"}) {
        AVCodec c = avcodec_find_decoder_by_name(n);
        if (c != null && !c.isNull()) {
          return c;
        }
      }
    }
    AVCodec c = avcodec_find_decoder(codecId);
    return c == null || c.isNull() ? null : c;
  }

  /** The next frame in presentation order, or null at the end. */
  private DecodedFrame decode() {
    while (true) {
      int r = avcodec_receive_frame(dec, frame);
      if (r >= 0) {
        try {
          DecodedFrame f = convert();
          if (f != null) {
            return f;
          }
        } finally {
          av_frame_unref(frame);
        }
        continue;
      }
      if (r == AVERROR_EOF()) {
        if (scan.whileReading) {
          scan.checkEnd(file, lastTicks, lastDuration);
        }
        return null;
      }
      if (r != EAGAIN) {
        throw file.or(corrupt(file, "decoding failed after " + seconds(lastTicks) + ": " + err(r)));
      }
      if (flushed) {
        throw new FoleyException(FoleyException.Code.INTERNAL, "the decoder asked for input after the end of video " + file);
      }
      feed();
    }
  }

  /** Sends the next packet of the video stream to the decoder, or the end-of-stream signal. */
  private void feed() {
    while (true) {
      int r = av_read_frame(fmt, pkt);
      if (r < 0) {
        if (r != AVERROR_EOF()) {
          throw file.or(corrupt(file, "reading failed after " + seconds(lastTicks) + " (" + err(r) + "); the file is"
              + " probably truncated"));
        }
        flushed = true;
        avcodec_send_packet(dec, (AVPacket) null);
        return;
      }
      try {
        if (pkt.stream_index() != scan.stream) {
          continue;
        }
        timeline.apply(pkt);
        int s = avcodec_send_packet(dec, pkt);
        if (s < 0 && s != EAGAIN) {
          throw file.or(corrupt(file, "the " + info.codec() + " stream cannot be decoded after " + seconds(lastTicks) + ": "
              + err(s)));
        }
        return;
      } finally {
        av_packet_unref(pkt);
      }
    }
  }

  /** The current frame as a DecodedFrame, or null if it is dropped (before the start, not after the last). */
  private DecodedFrame convert() {
    long pts = frame.best_effort_timestamp();
    if (pts == AV_NOPTS_VALUE) {
      pts = frame.pts();
    }
    long ticks;
    if (scan.whileReading && scan.originPts == AV_NOPTS_VALUE) {
      scan.originPts = pts == AV_NOPTS_VALUE ? 0 : pts; // no first pass: the first frame out starts the clock
    }
    if (pts == AV_NOPTS_VALUE) {
      ticks = lastTicks < 0 ? 0 : lastTicks + Math.max(1, scan.intervalTicks());
    } else {
      ticks = (pts - scan.originPts) * scan.tbNum;
    }
    if (ticks < 0 || ticks <= lastTicks || ticks > scan.lastTicks()) {
      return null; // before the presentation start (edit list), a repeated timestamp, or past the last frame
    }
    int w = frame.width();
    int h = frame.height();
    int f = frame.format();
    boolean full = frame.color_range() == AVCOL_RANGE_JPEG || f == AV_PIX_FMT_YUVJ420P || f == AV_PIX_FMT_YUVJ422P
        || f == AV_PIX_FMT_YUVJ444P;
    boolean bt709 = frame.colorspace() == AVCOL_SPC_BT709;
    int cw = (w + 1) / 2;
    int ch = (h + 1) / 2;
    byte[] y = new byte[w * h];
    byte[] u = new byte[cw * ch];
    byte[] v = new byte[cw * ch];
    byte[][] same = null; // planes that are already the decoded picture's, tight
    if (f == AV_PIX_FMT_YUV420P || f == AV_PIX_FMT_YUVJ420P) {
      copyPlane(frame.data(0), frame.linesize(0), w, h, y);
      copyPlane(frame.data(1), frame.linesize(1), cw, ch, u);
      copyPlane(frame.data(2), frame.linesize(2), cw, ch, v);
      same = new byte[][] {y, u, v};
    } else {
      scale(w, h, f, full, bt709, y, u, v);
    }
    int rot = scan.rotation;
    SwsRgb.Picture picture = SwsRgb.Picture.of(frame, rot, same);
    if (rot != 0) {
      y = Rotate.plane(y, w, h, rot);
      u = Rotate.plane(u, cw, ch, rot);
      v = Rotate.plane(v, cw, ch, rot);
      if (rot != 180) {
        int t = w;
        w = h;
        h = t;
      }
    }
    if (scan.whileReading) {
      scan.checkFrame(file, ticks);
    }
    lastTicks = ticks;
    lastDuration = frame.duration() > 0 ? frame.duration() * scan.tbNum : 0;
    return DecodedFrame.ofYuv420(ticks, scan.tbDen, w, h, y, u, v, bt709, full, rgb.of(picture));
  }

  private static void copyPlane(BytePointer src, int stride, int w, int h, byte[] dst) {
    if (stride < w) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "unexpected line size " + stride + " for width " + w);
    }
    for (int r = 0; r < h; r++) {
      src.position((long) r * stride).get(dst, r * w, w);
    }
  }

  /** Any other pixel layout or depth to 8-bit 4:2:0 at the same size, keeping its range. */
  private void scale(int w, int h, int f, boolean full, boolean bt709, byte[] y, byte[] u, byte[] v) {
    sws = sws_getCachedContext(sws, w, h, f, w, h, AV_PIX_FMT_YUV420P, SWS_BILINEAR, null, null, (DoublePointer) null);
    if (sws == null || sws.isNull()) {
      BytePointer n = av_get_pix_fmt_name(f);
      throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, "video " + file + " has pixel format "
          + (n == null || n.isNull() ? String.valueOf(f) : n.getString()) + ", which cannot be converted to YUV 4:2:0");
    }
    IntPointer coef = sws_getCoefficients(bt709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT);
    sws_setColorspaceDetails(sws, coef, full ? 1 : 0, coef, full ? 1 : 0, 0, 1 << 16, 1 << 16);
    int sy = align(w);
    int sc = align((w + 1) / 2);
    int ch = (h + 1) / 2;
    if (w != swsW || h != swsH) {
      if (swsBuf != null) {
        av_free(swsBuf);
      }
      swsBuf = new BytePointer(av_malloc((long) sy * h + 2L * sc * ch + 64));
      if (swsBuf.isNull()) {
        swsBuf = null;
        throw new FoleyException(FoleyException.Code.INTERNAL, "out of native memory converting video " + file);
      }
      swsW = w;
      swsH = h;
    }
    long offU = (long) sy * h;
    long offV = offU + (long) sc * ch;
    try (PointerPointer<BytePointer> dst = new PointerPointer<>(3);
        IntPointer dstStride = new IntPointer(sy, sc, sc, 0);
        BytePointer pu = new BytePointer(swsBuf).position(offU);
        BytePointer pv = new BytePointer(swsBuf).position(offV)) {
      dst.put(0, new BytePointer(swsBuf).position(0));
      dst.put(1, pu);
      dst.put(2, pv);
      int lines = sws_scale(sws, frame.data(), frame.linesize(), 0, h, dst, dstStride);
      if (lines != h) {
        throw corrupt(file, "converting a frame gave " + lines + " of " + h + " lines");
      }
    }
    for (int r = 0; r < h; r++) {
      swsBuf.position((long) r * sy).get(y, r * w, w);
    }
    int cw = (w + 1) / 2;
    for (int r = 0; r < ch; r++) {
      swsBuf.position(offU + (long) r * sc).get(u, r * cw, cw);
      swsBuf.position(offV + (long) r * sc).get(v, r * cw, cw);
    }
    swsBuf.position(0);
  }

  private static int align(int n) {
    return (n + 63) & ~63;
  }

  private String seconds(long ticks) {
    return ticks < 0 ? "the start" : String.format(Locale.ROOT, "%.3f s", ticks / (double) scan.tbDen);
  }

  static AVFormatContext openInput(Path file) {
    return openInput(Input.of(file), true);
  }

  /**
   * Opens the demuxer. With {@code probeAlways} false, the stream probing (which reads and decodes
   * the first seconds) is skipped when the header already names a video codec and picture size,
   * as MP4, MOV, Matroska and WebM headers do; MPEG-TS and other headerless streams are probed.
   */
  static AVFormatContext openInput(Input file, boolean probeAlways) {
    AVFormatContext fmt;
    int r;
    if (file.path != null) {
      fmt = new AVFormatContext(null);
      r = avformat_open_input(fmt, file.path.toString(), null, null);
    } else {
      AVIOContext io = file.stream != null ? MemoryIo.open(file) : MemoryIo.open(file.bytes);
      fmt = avformat_alloc_context();
      if (fmt == null || fmt.isNull()) {
        MemoryIo.free(io);
        throw new FoleyException(FoleyException.Code.INTERNAL, "out of native memory opening video " + file);
      }
      fmt.pb(io); // avformat_open_input marks it AVFMT_FLAG_CUSTOM_IO, which closeInput frees
      r = avformat_open_input(fmt, (String) null, null, null);
      if (r < 0) {
        MemoryIo.free(io); // FFmpeg freed fmt, never a custom context
      }
    }
    if (r < 0) {
      throw file.or(corrupt(file, "FFmpeg cannot read it as a media file (" + err(r) + ")"));
    }
    if (!probeAlways && headerDescribesVideo(fmt)) {
      return fmt;
    }
    r = avformat_find_stream_info(fmt, (PointerPointer<?>) null);
    if (r < 0) {
      AvFree.closeInput(fmt);
      throw file.or(corrupt(file, "its streams cannot be analysed (" + err(r) + ")"));
    }
    return fmt;
  }

  /** The index of the first video stream that is not an attached picture (cover art), or -1 if none. */
  static int videoStream(AVFormatContext fmt) {
    for (int i = 0; i < fmt.nb_streams(); i++) {
      AVStream st = fmt.streams(i);
      if (st.codecpar().codec_type() == AVMEDIA_TYPE_VIDEO && (st.disposition() & AV_DISPOSITION_ATTACHED_PIC) == 0) {
        return i;
      }
    }
    return -1;
  }

  private static boolean headerDescribesVideo(AVFormatContext fmt) {
    boolean any = false;
    for (int i = 0; i < fmt.nb_streams(); i++) {
      AVCodecParameters par = fmt.streams(i).codecpar();
      if (par.codec_type() == AVMEDIA_TYPE_VIDEO) {
        if (par.codec_id() == 0 || par.width() <= 0 || par.height() <= 0) {
          return false;
        }
        any = true;
      }
    }
    return any;
  }

  static String err(int code) {
    byte[] b = new byte[128];
    av_strerror(code, b, b.length);
    int n = 0;
    while (n < b.length && b[n] != 0) {
      n++;
    }
    return new String(b, 0, n, StandardCharsets.UTF_8) + " [" + code + "]";
  }

  static UnsupportedVideoException corrupt(Path file, String why) {
    return corrupt(Input.of(file), why);
  }

  static UnsupportedVideoException corrupt(Input file, String why) {
    return new UnsupportedVideoException(FoleyException.Code.CORRUPT_VIDEO, "video " + file + " is unusable: " + why);
  }

  /**
   * The first pass over a file: which stream, its time base, rotation, and what its packets say
   * (count, first and last presentation time), checked against the container's stated duration.
   */
  static final class Scan {
    int stream = -1;
    long tbNum;
    long tbDen;
    int rotation;
    String codec;
    int width;
    int height;
    long count;
    long originPts = AV_NOPTS_VALUE;
    long maxPts = AV_NOPTS_VALUE;
    long lastDuration;
    long statedPts = -1; // stated duration in time-base units, -1 if the container does not say
    long statedFrames; // the frame count the header or index states (AVI, MP4), 0 if it does not say
    long packets; // every packet of the video stream, discarded ones included
    long durationPts;
    int readError;
    boolean whileReading; // no first pass: the header's statements only, the frames checked as they come
    long nominal; // the stream's nominal frame interval in time-base units (whileReading)

    long lastTicks() {
      return whileReading ? Long.MAX_VALUE : (maxPts - originPts) * tbNum;
    }

    long intervalTicks() {
      if (whileReading) {
        return nominal * tbNum;
      }
      return count > 1 ? (maxPts - originPts) * tbNum / (count - 1) : lastDuration * tbNum;
    }

    /**
     * What the header of a video still arriving states, or null if it states no duration (then the
     * frames must be counted first). The frame count is the stated one, else the duration over the
     * nominal frame interval; the last frame's time is not known (see {@link VideoInfo#lastFrameSeconds()}).
     */
    static Scan header(Input file, AVFormatContext fmt) {
      Scan s = new Scan();
      s.pickStream(file, fmt);
      if (s.statedPts <= 0) {
        return null;
      }
      String format = fmt.iformat() != null ? fmt.iformat().name().getString() : "";
      if (format.startsWith("mov") && fragmented(file.stream)) {
        return null; // its moov states the first fragments only (FFmpeg adds each fragment as it reads it)
      }
      s.whileReading = true;
      s.nominal = Timeline.nominalInterval(fmt.streams(s.stream));
      s.durationPts = s.statedPts;
      s.count = s.statedFrames > 0 ? s.statedFrames : Math.max(1, Math.round(s.statedPts / (double) s.nominal));
      s.packets = s.count;
      return s;
    }

    /**
     * Whether an MP4's {@code moov} (at the start of what has arrived) holds an {@code mvex} box:
     * the file is fragmented, and its header's duration is that of the samples in the moov only.
     */
    static boolean fragmented(StreamingVideo video) {
      byte[] h = new byte[16];
      long pos = 0;
      for (int box = 0; box < 64 && pos < video.received(); box++) {
        long[] b = box(video, pos, h);
        if (b == null) {
          return true; // not a box we can read: not safe to start early
        }
        if (b[1] == MOOV) {
          for (long c = pos + b[2]; c < pos + b[0]; ) {
            long[] child = box(video, c, h);
            if (child == null || child[0] <= 0) {
              return true;
            }
            if (child[1] == MVEX) {
              return true;
            }
            c += child[0];
          }
          return false;
        }
        if (b[1] == MOOF || b[0] <= 0) {
          return true;
        }
        pos += b[0];
      }
      return true;
    }

    private static final int MOOV = 0x6d6f6f76;
    private static final int MVEX = 0x6d766578;
    private static final int MOOF = 0x6d6f6f66;

    /** The box at {@code pos}: {size, type, header length}, or null if its header has not arrived. */
    private static long[] box(StreamingVideo video, long pos, byte[] h) {
      if (pos + 16 > video.received()) {
        return null;
      }
      for (int got = 0; got < 16; ) {
        int n = video.read(pos + got, h, got, 16 - got);
        if (n < 0) {
          return null;
        }
        got += n;
      }
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(h);
      long size = b.getInt(0) & 0xffffffffL;
      int type = b.getInt(4);
      long header = 8;
      if (size == 1) {
        size = b.getLong(8);
        header = 16;
      } else if (size == 0) {
        size = Long.MAX_VALUE - pos; // to the end
      }
      return size < header ? null : new long[] {size, type, header};
    }

    /** Tolerance of the duration rule, in ticks: two frames, at least 50 ms (see {@link #check}). */
    private long toleranceTicks(long frameTicks) {
      return Math.max(2 * frameTicks, Math.round(0.05 * tbDen));
    }

    /** A frame (whileReading) presented past the stated duration, beyond the tolerance, is refused. */
    void checkFrame(Input file, long ticks) {
      long stated = durationPts * tbNum;
      if (ticks > stated + toleranceTicks(nominal * tbNum)) {
        throw corrupt(file, "the container states " + secs(durationPts) + " of video but its frames run to "
            + String.format(Locale.ROOT, "%.3f s", ticks / (double) tbDen));
      }
    }

    /** At the end of the frames (whileReading): frames that end early mean the stream is truncated. */
    void checkEnd(Input file, long lastFrameTicks, long lastFrameDuration) {
      long interval = nominal * tbNum;
      long last = lastFrameDuration > 0 ? lastFrameDuration : interval;
      long framesEnd = lastFrameTicks + last;
      long stated = durationPts * tbNum;
      if (stated > framesEnd + toleranceTicks(Math.max(interval, last))) {
        throw file.or(corrupt(file, "the container states " + secs(durationPts) + " of video but its frames end at "
            + String.format(Locale.ROOT, "%.3f s", framesEnd / (double) tbDen) + ": the stream is truncated"));
      }
    }

    /** With the header's picture size (turned upright), until a frame is decoded. */
    VideoInfo info() {
      int w = rotation == 90 || rotation == 270 ? height : width;
      int h = rotation == 90 || rotation == 270 ? width : height;
      return new VideoInfo(w, h, codec, durationPts * tbNum, tbDen, count, whileReading ? -1 : lastTicks(), tbDen);
    }

    /**
     * With the size of the first decoded picture (already upright): the decoder's, not the
     * container's, which may declare another (a Matroska PixelWidth that disagrees with the SPS).
     */
    VideoInfo info(DecodedFrame first) {
      return new VideoInfo(first.width(), first.height(), codec, durationPts * tbNum, tbDen, count,
          whileReading ? -1 : lastTicks(), tbDen);
    }

    static Scan read(Input file) {
      AVFormatContext fmt = openInput(file, false);
      AVPacket p = null;
      try {
        Scan s = new Scan();
        s.pickStream(file, fmt);
        p = av_packet_alloc();
        Timeline timeline = new Timeline(fmt, fmt.streams(s.stream));
        long lastPtsDuration = 0;
        long nominal = Timeline.nominalInterval(fmt.streams(s.stream));
        long prevPts = AV_NOPTS_VALUE;
        while (true) {
          int r = av_read_frame(fmt, p);
          if (r < 0) {
            if (r != AVERROR_EOF()) {
              s.readError = r;
            }
            break;
          }
          if (p.stream_index() == s.stream) {
            timeline.apply(p);
            s.packets++;
          }
          if (p.stream_index() == s.stream && (p.flags() & AV_PKT_FLAG_DISCARD) == 0) {
            long pts = p.pts() != AV_NOPTS_VALUE ? p.pts() : p.dts();
            if (pts == AV_NOPTS_VALUE) {
              // no timestamp at all (a raw H.264 stream): one frame interval after the previous
              // packet, as the decode pass times frames that come out without one
              pts = prevPts == AV_NOPTS_VALUE ? 0 : prevPts + nominal;
            }
            prevPts = pts;
            s.count++;
            if (pts != AV_NOPTS_VALUE) {
              if (s.originPts == AV_NOPTS_VALUE || pts < s.originPts) {
                s.originPts = pts;
              }
              if (s.maxPts == AV_NOPTS_VALUE || pts > s.maxPts) {
                s.maxPts = pts;
                lastPtsDuration = p.duration();
              }
            }
          }
          av_packet_unref(p);
        }
        s.lastDuration = lastPtsDuration;
        s.check(file, fmt);
        if (timeline.jumps() > 0) {
          System.getLogger("io.foley4j.video").log(System.Logger.Level.WARNING, "video " + file + ": its timestamps"
              + " jump " + timeline.jumps() + (timeline.jumps() == 1 ? " time" : " times") + " (e.g. MPEG-TS segments"
              + " joined end to end); they were made continuous, each part following the previous one's last frame,"
              + " as ffmpeg does: the video lasts " + s.secs(s.durationPts));
        }
        return s;
      } finally {
        AvFree.free(p);
        AvFree.closeInput(fmt);
      }
    }

    private void pickStream(Input file, AVFormatContext fmt) {
      stream = videoStream(fmt);
      if (stream < 0) {
        throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, "video " + file
            + " has no video stream (" + fmt.nb_streams() + " other streams): pass a video file");
      }
      AVStream st = fmt.streams(stream);
      AVCodecParameters par = st.codecpar();
      tbNum = st.time_base().num();
      tbDen = st.time_base().den();
      if (tbNum <= 0 || tbDen <= 0) {
        throw corrupt(file, "its video stream has an invalid time base " + tbNum + "/" + tbDen);
      }
      codec = avcodec_get_name(par.codec_id()).getString();
      width = par.width();
      height = par.height();
      if (width <= 0 || height <= 0) {
        throw corrupt(file, "its " + codec + " stream states no picture size");
      }
      rotation = rotation(st);
      statedFrames = Math.max(0, st.nb_frames());
      if (st.duration() != AV_NOPTS_VALUE && st.duration() > 0) {
        statedPts = st.duration();
      } else if (fmt.nb_streams() == 1 && fmt.duration() != AV_NOPTS_VALUE && fmt.duration() > 0
          && fmt.duration_estimation_method() != AVFMT_DURATION_FROM_BITRATE) {
        statedPts = Math.round(fmt.duration() / 1e6 * tbDen / tbNum); // AV_TIME_BASE units
      }
      if (fmt.duration_estimation_method() == AVFMT_DURATION_FROM_BITRATE) {
        statedPts = -1; // a guess from the bit rate, not a statement
      }
      if (fmt.iformat() != null && (fmt.iformat().flags() & AVFMT_TS_DISCONT) != 0) {
        statedPts = -1; // MPEG-TS/PS state no duration: FFmpeg's is its first-to-last timestamp estimate
      }
    }

    /** Clockwise degrees (0, 90, 180, 270) that turn the stored picture upright. */
    private static int rotation(AVStream st) {
      AVCodecParameters par = st.codecpar();
      double ccw = Double.NaN;
      AVPacketSideData sd = av_packet_side_data_get(par.coded_side_data(), par.nb_coded_side_data(),
          AV_PKT_DATA_DISPLAYMATRIX);
      if (sd != null && !sd.isNull() && sd.size() >= 36 && sd.data() != null && !sd.data().isNull()) {
        ccw = av_display_rotation_get(new IntPointer(sd.data()).capacity(9));
      }
      if (Double.isNaN(ccw)) {
        AVDictionaryEntry e = av_dict_get(st.metadata(), "rotate", null, 0);
        if (e != null && !e.isNull()) {
          try {
            ccw = -Double.parseDouble(e.value().getString().trim()); // the tag counts clockwise
          } catch (NumberFormatException ex) {
            ccw = Double.NaN;
          }
        }
      }
      if (Double.isNaN(ccw)) {
        return 0;
      }
      long q = Math.round(-ccw / 90.0);
      return (int) (((q % 4) + 4) % 4) * 90;
    }

    /**
     * The duration rule: the frames end at the last presentation time plus that frame's duration
     * (its packet's, else the average frame interval). A stated duration more than two frames
     * (and 50 ms) longer than that means the file is truncated; one shorter means frames beyond
     * what the container presents: both are refused as CORRUPT_VIDEO. Otherwise the stated
     * duration is the video's (exactly as the container gives it); without one, the frames' end.
     */
    private void check(Input file, AVFormatContext fmt) {
      if (count == 0 || maxPts == AV_NOPTS_VALUE) {
        throw corrupt(file, readError != 0 ? "no video packet can be read (" + err(readError) + ")"
            : "its " + codec + " stream has no frames");
      }
      long interval = count > 1 ? (maxPts - originPts) / (count - 1) : 0;
      long last = lastDuration > 0 ? lastDuration : interval;
      if (last <= 0) {
        last = Math.max(1, Math.round(tbDen / (25.0 * tbNum))); // a single frame of unknown length: 1/25 s
      }
      long framesEnd = maxPts - originPts + last;
      long tol = Math.max(2 * Math.max(interval, last), Math.round(0.05 * tbDen / tbNum));
      if (readError != 0 && (statedPts < 0 || statedPts > framesEnd)) {
        throw corrupt(file, "reading stopped at " + secs(framesEnd) + " (" + err(readError) + "); the file is"
            + " probably truncated");
      }
      if (statedFrames > packets && (statedFrames - packets) * Math.max(interval, last) > tol) {
        // AVI: a cut file loses its index, and FFmpeg then reports the duration of what it finds,
        // but the header's frame count still says how long the video was
        throw corrupt(file, "the container states " + statedFrames + " frames (" + secs(statedFrames
            * Math.max(interval, last)) + ") but only " + packets + " frames (" + secs(framesEnd) + ") can be read:"
            + " the file is truncated");
      }
      if (statedPts >= 0 && statedPts > framesEnd + tol) {
        throw corrupt(file, "the container states " + secs(statedPts) + " of video but its frames end at "
            + secs(framesEnd) + ": the file is truncated");
      }
      if (statedPts >= 0 && statedPts < framesEnd - tol) {
        throw corrupt(file, "the container states " + secs(statedPts) + " of video but its frames run to "
            + secs(framesEnd));
      }
      durationPts = statedPts >= 0 ? statedPts : framesEnd;
    }

    private String secs(long pts) {
      return String.format(Locale.ROOT, "%.3f s", pts * (double) tbNum / tbDen);
    }
  }
}
