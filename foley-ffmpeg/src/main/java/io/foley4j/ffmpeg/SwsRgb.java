package io.foley4j.ffmpeg;

import static org.bytedeco.ffmpeg.global.avutil.AVCOL_PRI_UNSPECIFIED;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_TRC_UNSPECIFIED;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_get_buffer;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_unref;
import static org.bytedeco.ffmpeg.global.avutil.av_get_pix_fmt_name;
import static org.bytedeco.ffmpeg.global.avutil.av_image_get_linesize;
import static org.bytedeco.ffmpeg.global.avutil.av_pix_fmt_count_planes;
import static org.bytedeco.ffmpeg.global.avutil.av_pix_fmt_desc_get;
import static org.bytedeco.ffmpeg.global.swscale.SWS_BILINEAR;
import static org.bytedeco.ffmpeg.global.swscale.sws_alloc_context;
import static org.bytedeco.ffmpeg.global.swscale.sws_free_context;
import static org.bytedeco.ffmpeg.global.swscale.sws_scale_frame;

import io.foley4j.FoleyException;
import io.foley4j.UnsupportedVideoException;
import io.foley4j.video.DecoderRgb;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVPixFmtDescriptor;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;

/**
 * Decoded pictures to 8-bit RGB with libswscale, with the parameters PyAV 18's
 * {@code VideoFrame.to_ndarray(format="rgb24")} (its {@code VideoReformatter}) passes, so that the
 * bytes are PyAV's, which are what HunyuanVideo-Foley and MMAudio feed their encoders:
 *
 * <ul>
 *   <li>{@code sws_scale_frame} (FFmpeg 8's frame API) on a context from {@code sws_alloc_context},
 *       {@code flags = SWS_BILINEAR}, reused for every picture (it re-initialises itself when the
 *       format, size or colour properties change);
 *   <li>the source frame with the decoded picture's format, size, colour range, matrix, chroma
 *       location and interlacing flag, transfer and primaries set to unspecified (PyAV neutralises
 *       them so that swscale converts no gamut), and matrix BT.470BG written as SMPTE 170M (PyAV's
 *       mapping through the SWS_CS values; the same matrix);
 *   <li>the destination {@code rgb24} frame of the same size with the source's properties (PyAV
 *       copies them with {@code av_frame_copy_props}; swscale treats any RGB as full range),
 *       buffers from {@code av_frame_get_buffer(frame, 16)}.
 * </ul>
 *
 * <p>PyAV lets swscale pick its thread count (0); this converter asks for one thread, which gives
 * the same bytes (slices split rows only) without a pool of native threads per video.
 *
 * <p>One converter per video source; {@link #convert} is synchronized, so a frame may be converted
 * from any thread. After {@link #close()} a conversion runs on a converter of its own, freed at once.
 * Native memory: one context, two frames (the last picture's size), freed by {@link #close()}
 * (idempotent) or, for a temporary converter, when its conversion ends or fails.
 */
final class SwsRgb implements AutoCloseable {
  private static final int AVCOL_SPC_BT470BG = 5;
  private static final int AVCOL_SPC_SMPTE170M = 6;
  private static final int AV_FRAME_FLAG_INTERLACED = 1 << 3;
  private static final long AV_PIX_FMT_FLAG_PAL = 1 << 1;
  private static final int PALETTE_BYTES = 256 * 4;
  /** Contexts allocated and not yet freed, process-wide: a diagnostic that tests read. */
  private static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();

  private final String video; // for messages
  private SwsContext ctx;
  private AVFrame src;
  private AVFrame dst;
  private boolean closed;

  SwsRgb(String video) {
    this.video = video;
  }

  /**
   * One decoded picture, copied to the heap in the layout and depth it was decoded in: plane
   * {@code i} is {@code rows[i]} rows of {@code rowBytes[i]} bytes, without padding (a paletted
   * format's palette is the plane after its pixels: one row of 1024 bytes, FFmpeg's {@code data[1]}). Colour
   * properties as the decoder gave them; {@code rotation} (0, 90, 180, 270 clockwise) turns the
   * RGB upright.
   */
  record Picture(int format, int width, int height, byte[][] planes, int[] rowBytes, int[] rows,
      int colorspace, int range, int chromaLocation, boolean interlaced, int rotation) {

    /** Copies the decoded {@code frame}; a plane given in {@code reuse} (already copied, tight) is taken as it is. */
    static Picture of(AVFrame frame, int rotation, byte[][] reuse) {
      int f = frame.format();
      int w = frame.width();
      int h = frame.height();
      int n = av_pix_fmt_count_planes(f);
      AVPixFmtDescriptor desc = av_pix_fmt_desc_get(f);
      if (n <= 0 || desc == null || desc.isNull()) {
        throw new FoleyException(FoleyException.Code.INTERNAL, "unknown pixel format " + f);
      }
      int chromaRows = -((-h) >> desc.log2_chroma_h());
      boolean pal = (desc.flags() & AV_PIX_FMT_FLAG_PAL) != 0;
      int all = pal ? n + 1 : n; // a palette travels as one more "plane": 256 RGBA entries in data[1]
      byte[][] planes = new byte[all][];
      int[] rowBytes = new int[all];
      int[] rows = new int[all];
      for (int i = 0; i < all; i++) {
        boolean palette = pal && i == n;
        rowBytes[i] = palette ? PALETTE_BYTES : av_image_get_linesize(f, w, i);
        rows[i] = palette ? 1 : (i == 1 || i == 2) ? chromaRows : h;
        if (rowBytes[i] <= 0 || (!palette && frame.linesize(i) < rowBytes[i])) {
          throw new FoleyException(FoleyException.Code.INTERNAL, "unexpected line size " + frame.linesize(i)
              + " for plane " + i + " of a " + w + "x" + h + " picture");
        }
        if (reuse != null && i < reuse.length && reuse[i] != null
            && reuse[i].length == rowBytes[i] * rows[i]) {
          planes[i] = reuse[i];
          continue;
        }
        byte[] p = new byte[rowBytes[i] * rows[i]];
        BytePointer d = frame.data(i);
        int stride = frame.linesize(i);
        for (int r = 0; r < rows[i]; r++) {
          d.position((long) r * stride).get(p, r * rowBytes[i], rowBytes[i]);
        }
        d.position(0);
        planes[i] = p;
      }
      return new Picture(f, w, h, planes, rowBytes, rows, frame.colorspace(), frame.color_range(),
          frame.chroma_location(), (frame.flags() & AV_FRAME_FLAG_INTERLACED) != 0, rotation);
    }

    int uprightWidth() {
      return rotation == 90 || rotation == 270 ? height : width;
    }

    int uprightHeight() {
      return rotation == 90 || rotation == 270 ? width : height;
    }
  }

  /** The conversion of {@code p} by this converter, as a frame's {@link DecoderRgb}. */
  DecoderRgb of(Picture p) {
    return out -> convert(p, out);
  }

  /**
   * Writes {@code p} as interleaved RGB24, upright, into {@code out} ({@code 3*w*h} bytes from 0).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code out} is too small, {@code
   *     UNSUPPORTED_VIDEO} if swscale cannot convert the picture's format, {@code INTERNAL} if
   *     native memory runs out
   */
  void convert(Picture p, byte[] out) {
    int need = 3 * p.width() * p.height();
    if (out == null || out.length < need) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "an RGB picture of " + p.uprightWidth() + "x"
          + p.uprightHeight() + " needs " + need + " bytes, got " + (out == null ? "none" : out.length));
    }
    synchronized (this) {
      if (!closed) {
        convertOpen(p, out);
        return;
      }
    }
    try (SwsRgb once = new SwsRgb(video)) { // the source is closed: a converter for this one picture
      once.convert(p, out);
    }
  }

  private void convertOpen(Picture p, byte[] out) {
    if (ctx == null) {
      ctx = sws_alloc_context();
      if (ctx != null && !ctx.isNull()) {
        LIVE.incrementAndGet();
      }
      src = av_frame_alloc();
      dst = av_frame_alloc();
      if (ctx == null || ctx.isNull() || src == null || src.isNull() || dst == null || dst.isNull()) {
        freeNative();
        throw new FoleyException(FoleyException.Code.INTERNAL, "out of native memory converting video " + video);
      }
      ctx.flags(SWS_BILINEAR);
      ctx.threads(1);
    }
    int w = p.width();
    int h = p.height();
    if (src.format() != p.format() || src.width() != w || src.height() != h || src.data(0) == null
        || src.data(0).isNull()) {
      av_frame_unref(src);
      src.format(p.format()).width(w).height(h);
      int r = av_frame_get_buffer(src, 0);
      if (r < 0) {
        av_frame_unref(src);
        throw new FoleyException(FoleyException.Code.INTERNAL, "cannot allocate a " + w + "x" + h + " picture"
            + " converting video " + video + ": " + FfmpegVideoSource.err(r));
      }
    }
    if (dst.width() != w || dst.height() != h || dst.data(0) == null || dst.data(0).isNull()) {
      av_frame_unref(dst);
      dst.format(AV_PIX_FMT_RGB24).width(w).height(h);
      int r = av_frame_get_buffer(dst, 16);
      if (r < 0) {
        av_frame_unref(dst);
        throw new FoleyException(FoleyException.Code.INTERNAL, "cannot allocate a " + w + "x" + h + " RGB picture"
            + " converting video " + video + ": " + FfmpegVideoSource.err(r));
      }
    }
    for (int i = 0; i < p.planes().length; i++) {
      BytePointer d = src.data(i);
      int stride = src.linesize(i);
      int rb = p.rowBytes()[i];
      byte[] plane = p.planes()[i];
      if (stride == rb) { // one copy where the frame's rows have no padding
        d.position(0).put(plane, 0, rb * p.rows()[i]);
      } else {
        for (int r = 0; r < p.rows()[i]; r++) {
          d.position((long) r * stride).put(plane, r * rb, rb);
        }
      }
      d.position(0);
    }
    int csp = p.colorspace() == AVCOL_SPC_BT470BG ? AVCOL_SPC_SMPTE170M : p.colorspace();
    int flags = p.interlaced() ? AV_FRAME_FLAG_INTERLACED : 0;
    src.colorspace(csp).color_range(p.range()).chroma_location(p.chromaLocation())
        .color_trc(AVCOL_TRC_UNSPECIFIED).color_primaries(AVCOL_PRI_UNSPECIFIED).flags(flags);
    dst.colorspace(csp).color_range(p.range()).chroma_location(p.chromaLocation())
        .color_trc(AVCOL_TRC_UNSPECIFIED).color_primaries(AVCOL_PRI_UNSPECIFIED).flags(flags);
    int r = sws_scale_frame(ctx, dst, src);
    if (r < 0) {
      BytePointer n = av_get_pix_fmt_name(p.format());
      throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, "video " + video + " has pictures"
          + " in pixel format " + (n == null || n.isNull() ? String.valueOf(p.format()) : n.getString())
          + " that swscale cannot convert to RGB: " + FfmpegVideoSource.err(r));
    }
    BytePointer d = dst.data(0);
    int stride = dst.linesize(0);
    int rb = 3 * w;
    byte[] target = out;
    if (p.rotation() != 0) {
      target = new byte[rb * h];
    }
    if (stride == rb) {
      d.position(0).get(target, 0, rb * h);
    } else {
      for (int y = 0; y < h; y++) {
        d.position((long) y * stride).get(target, y * rb, rb);
      }
    }
    d.position(0);
    if (p.rotation() != 0) {
      Rotate.rgb(target, w, h, p.rotation(), out);
    }
  }

  /** How many converters hold native memory now, in this process (tests). */
  static long live() {
    return LIVE.get();
  }

  /** Frees the context and frames. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    freeNative();
  }

  private void freeNative() {
    if (ctx != null && !ctx.isNull()) {
      sws_free_context(ctx);
      LIVE.decrementAndGet();
    }
    ctx = null;
    src = AvFree.free(src);
    dst = AvFree.free(dst);
  }
}
