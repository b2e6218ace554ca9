package io.foley4j.video;

import io.foley4j.FoleyException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A generated video with events at exactly known times: a background colour, whole-frame
 * "flashes" and squares moving left to right (BT.601 limited range). Its frames come straight
 * from memory ({@link #open()}, {@link #asFactory()}: no container, no codec); foley-jcodec's
 * {@code io.foley4j.jcodec.SyntheticMp4} writes it as H.264 in an MP4 whose time scale is the frame
 * rate's numerator, so 30000/1001 fps is exact.
 *
 * <pre>{@code
 * SyntheticVideo clip = SyntheticVideo.builder().size(160, 120).fps(30000, 1001).durationSeconds(10)
 *     .flash(2.0, 0.1, 0xFFFFFF).movingSquare(1.0, 4.0, 0xFF0000).build();
 * try (VideoSource frames = clip.open()) { ... }
 * }</pre>
 *
 * <p>Frame i has presentation time {@code i * fpsDen / fpsNum} seconds; a flash covers the frames
 * whose time lies in {@code [start, start + duration)}. Immutable.
 */
public final class SyntheticVideo {
  private final int width;
  private final int height;
  private final int fpsNum;
  private final int fpsDen;
  private final int frameCount;
  private final int background;
  private final List<double[]> flashes;
  private final List<double[]> squares;

  private SyntheticVideo(Builder b) {
    this.width = b.width;
    this.height = b.height;
    this.fpsNum = b.fpsNum;
    this.fpsDen = b.fpsDen;
    this.frameCount = (int) Math.round(b.duration * b.fpsNum / b.fpsDen);
    this.background = b.background;
    this.flashes = copy(b.flashes);
    this.squares = copy(b.squares);
  }

  private static List<double[]> copy(List<double[]> in) {
    List<double[]> out = new ArrayList<>();
    for (double[] d : in) {
      out.add(d.clone());
    }
    return List.copyOf(out);
  }

  /** A new builder (defaults: 160×120, 30 fps, 2 s, black background, no events). */
  public static Builder builder() {
    return new Builder();
  }

  /** Number of frames: {@code round(duration * fps)}. */
  public int frameCount() {
    return frameCount;
  }

  /** Presentation time of frame {@code i} in seconds. */
  public double frameTime(int i) {
    return i * (double) fpsDen / fpsNum;
  }

  /** The colour (0xRRGGBB) that fills frame {@code i} where no square is drawn. */
  public int frameColour(int i) {
    double t = frameTime(i);
    int c = background;
    for (double[] f : flashes) {
      if (t >= f[0] - 1e-9 && t < f[0] + f[1] - 1e-9) {
        c = (int) f[2];
      }
    }
    return c;
  }

  /** Frame width in pixels. */
  public int width() {
    return width;
  }

  /** Frame height in pixels. */
  public int height() {
    return height;
  }

  /** The frame rate's numerator: frames' timestamps are in ticks of {@code 1 / fpsNumerator()} s. */
  public int fpsNumerator() {
    return fpsNum;
  }

  /** The frame rate's denominator: frame i is at tick {@code i * fpsDenominator()}. */
  public int fpsDenominator() {
    return fpsDen;
  }

  /**
   * What an {@link #open() opened} source reports: {@code width()}×{@code height()}, codec {@code
   * "synthetic"}, a duration of {@code frameCount() * fpsDenominator()} ticks of {@code
   * fpsNumerator()} per second.
   */
  public VideoInfo info() {
    return new VideoInfo(width, height, "synthetic", (long) frameCount * fpsDen, fpsNum, frameCount,
        (long) (frameCount - 1) * fpsDen, fpsNum);
  }

  /**
   * The frames straight from memory, no container and no codec: each frame is {@link
   * #renderYuv420 rendered} when {@link VideoSource#next()} asks for it (BT.601, limited range).
   * Used by the engine's {@code WarmUp.FULL} request and by tests that need no video file; an
   * encoded file of the same video (foley-jcodec's {@code SyntheticMp4}) decodes to nearly the same
   * pixels. Not thread-safe, as no {@link VideoSource} is.
   */
  public VideoSource open() {
    return new Frames(this);
  }

  /**
   * A factory whose every {@code open} (of a file or of bytes, which it does not read) returns
   * {@link #open()}: for a request that should see this video whatever its input says. Its {@link
   * VideoSourceFactory#id()} names this video's description, so two different videos never share
   * cache entries.
   */
  public VideoSourceFactory asFactory() {
    SyntheticVideo video = this;
    return new VideoSourceFactory() {
      @Override
      public VideoSource open(Path file) {
        return video.open();
      }

      @Override
      public VideoSource open(java.nio.ByteBuffer bytes, int decoderThreads) {
        return video.open();
      }

      @Override
      public String id() {
        return "synthetic-" + video.description() + "/foley4j-2";
      }

      @Override
      public String toString() {
        return "SyntheticVideo.asFactory()";
      }
    };
  }

  private String description() {
    StringBuilder b = new StringBuilder().append(width).append('x').append(height).append('@').append(fpsNum)
        .append('/').append(fpsDen).append('x').append(frameCount).append("-bg").append(Integer.toHexString(background));
    for (double[] f : flashes) {
      b.append("-f").append(f[0]).append(',').append(f[1]).append(',').append(Integer.toHexString((int) f[2]));
    }
    for (double[] q : squares) {
      b.append("-s").append(q[0]).append(',').append(q[1]).append(',').append(Integer.toHexString((int) q[2]));
    }
    return b.toString();
  }

  /**
   * Draws frame {@code i} as 8-bit 4:2:0 planes (BT.601 limited range, plain unsigned samples): every
   * byte of each array is first set to the frame's colour (so planes padded beyond the picture are
   * filled too), then the squares are drawn; rows are {@code yStride} and {@code cStride} bytes apart.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code i} is not a frame of this video or a
   *     plane is too small for the picture at its stride
   */
  public void renderYuv420(int i, byte[] y, int yStride, byte[] u, byte[] v, int cStride) {
    if (i < 0 || i >= frameCount) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "frame " + i + " is not in 0.." + (frameCount - 1));
    }
    if (y == null || u == null || v == null || yStride < width || cStride < width / 2
        || y.length < yStride * height || u.length < cStride * (height / 2) || v.length < cStride * (height / 2)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "planes too small for " + width + "x" + height
          + " at strides " + yStride + "/" + cStride);
    }
    int c = frameColour(i);
    int[] yuv = yuv(c);
    Arrays.fill(y, (byte) yuv[0]);
    Arrays.fill(u, (byte) yuv[1]);
    Arrays.fill(v, (byte) yuv[2]);
    double t = frameTime(i);
    for (double[] s : squares) {
      if (t < s[0] - 1e-9 || t >= s[1] - 1e-9 || c != background) {
        continue;
      }
      int side = Math.max(2, (Math.min(width, height) / 4) & ~1);
      double frac = (t - s[0]) / (s[1] - s[0]);
      int x0 = ((int) Math.round(frac * (width - side))) & ~1;
      int y0 = ((height - side) / 2) & ~1;
      int[] q = yuv((int) s[2]);
      for (int r = y0; r < y0 + side; r++) {
        Arrays.fill(y, r * yStride + x0, r * yStride + x0 + side, (byte) q[0]);
      }
      for (int r = y0 / 2; r < (y0 + side) / 2; r++) {
        Arrays.fill(u, r * cStride + x0 / 2, r * cStride + (x0 + side) / 2, (byte) q[1]);
        Arrays.fill(v, r * cStride + x0 / 2, r * cStride + (x0 + side) / 2, (byte) q[2]);
      }
    }
  }

  /** {@link #open()}'s source: renders each frame on demand. */
  private static final class Frames implements VideoSource {
    private final SyntheticVideo video;
    private final VideoInfo info;
    private int next;
    private boolean closed;

    Frames(SyntheticVideo video) {
      this.video = video;
      this.info = video.info();
    }

    @Override
    public VideoInfo info() {
      return info;
    }

    @Override
    public DecodedFrame next() {
      if (closed) {
        throw new FoleyException(FoleyException.Code.CLOSED, "the synthetic video source is closed");
      }
      if (next >= video.frameCount) {
        return null;
      }
      int w = video.width;
      int h = video.height;
      byte[] y = new byte[w * h];
      byte[] u = new byte[(w / 2) * (h / 2)];
      byte[] v = new byte[u.length];
      video.renderYuv420(next, y, w, u, v, w / 2);
      DecodedFrame f = DecodedFrame.ofYuv420((long) next * video.fpsDen, video.fpsNum, w, h, y, u, v, false, false);
      next++;
      return f;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** 0xRRGGBB to BT.601 limited-range Y, Cb, Cr. */
  static int[] yuv(int rgb) {
    double r = (rgb >> 16) & 0xff;
    double g = (rgb >> 8) & 0xff;
    double b = rgb & 0xff;
    double y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    double cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    double cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    return new int[] {clamp(y), clamp(cb), clamp(cr)};
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  /** Builder of {@link SyntheticVideo}; each setter validates its argument. */
  public static final class Builder {
    private int width = 160;
    private int height = 120;
    private int fpsNum = 30;
    private int fpsDen = 1;
    private double duration = 2.0;
    private int background = 0x000000;
    private final List<double[]> flashes = new ArrayList<>();
    private final List<double[]> squares = new ArrayList<>();

    private Builder() {}

    /** Frame size: even numbers in 16..4096. */
    public Builder size(int width, int height) {
      if (width < 16 || height < 16 || width > 4096 || height > 4096 || width % 2 != 0
          || height % 2 != 0) {
        throw invalid("size must be even and within 16..4096, got " + width + "x" + height);
      }
      this.width = width;
      this.height = height;
      return this;
    }

    /** Frame rate as a rational, e.g. {@code fps(30000, 1001)}. */
    public Builder fps(int numerator, int denominator) {
      if (numerator <= 0 || denominator <= 0 || numerator / (double) denominator > 240) {
        throw invalid("fps must be a positive rational up to 240, got " + numerator + "/"
            + denominator);
      }
      this.fpsNum = numerator;
      this.fpsDen = denominator;
      return this;
    }

    /** Duration in seconds; the frame count is {@code round(duration * fps)}, at least 1. */
    public Builder durationSeconds(double seconds) {
      if (!(seconds > 0) || seconds > 24 * 3600) {
        throw invalid("duration must be in (0, 86400] seconds, got " + seconds);
      }
      this.duration = seconds;
      return this;
    }

    /** Background colour, 0xRRGGBB. */
    public Builder background(int rgb) {
      this.background = rgb & 0xffffff;
      return this;
    }

    /** The whole frame shows {@code rgb} for the frames whose time is in [start, start+dur). */
    public Builder flash(double startSeconds, double durationSeconds, int rgb) {
      if (!(startSeconds >= 0) || !(durationSeconds > 0) || Double.isInfinite(startSeconds)
          || Double.isInfinite(durationSeconds)) {
        throw invalid("flash needs start >= 0 and duration > 0, got " + startSeconds + ", "
            + durationSeconds);
      }
      flashes.add(new double[] {startSeconds, durationSeconds, rgb & 0xffffff});
      return this;
    }

    /** A square that moves from the left edge to the right edge during [start, end). */
    public Builder movingSquare(double startSeconds, double endSeconds, int rgb) {
      if (!(startSeconds >= 0) || !(endSeconds > startSeconds) || Double.isInfinite(endSeconds)) {
        throw invalid("moving square needs 0 <= start < end, got " + startSeconds + ", "
            + endSeconds);
      }
      squares.add(new double[] {startSeconds, endSeconds, rgb & 0xffffff});
      return this;
    }

    /** Builds the description; the builder stays usable. */
    public SyntheticVideo build() {
      if (Math.round(duration * fpsNum / fpsDen) < 1) {
        throw invalid("duration " + duration + " s at " + fpsNum + "/" + fpsDen
            + " fps gives no frames");
      }
      return new SyntheticVideo(this);
    }

    private static FoleyException invalid(String msg) {
      return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, msg);
    }
  }
}
