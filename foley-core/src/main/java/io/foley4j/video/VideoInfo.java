package io.foley4j.video;

import java.util.Locale;
import java.util.Objects;

/**
 * Immutable facts about a video's video track, read from the container.
 *
 * <p>The duration is the video track's presentation duration (its edit list if it has one, else
 * its media duration), given exactly as {@link #durationTicks()} over {@link #durationTimescale()}
 * and, for convenience, as seconds.
 */
public final class VideoInfo {
  private final int width;
  private final int height;
  private final String codec;
  private final long durationTicks;
  private final long durationTimescale;
  private final long frameCount;
  private final long lastPtsTicks;
  private final long ptsTimescale;

  /**
   * @param width display width in pixels (after cropping)
   * @param height display height in pixels (after cropping)
   * @param codec codec name, e.g. {@code "h264"}
   * @param durationTicks duration in ticks of {@code durationTimescale}
   * @param durationTimescale ticks per second, positive
   * @param frameCount number of video frames (samples) in the track
   */
  public VideoInfo(
      int width, int height, String codec, long durationTicks, long durationTimescale,
      long frameCount) {
    this(width, height, codec, durationTicks, durationTimescale, frameCount, -1, 1);
  }

  /**
   * @param lastPtsTicks presentation time of the last frame, in ticks of {@code ptsTimescale}, as
   *     {@link DecodedFrame#ptsTicks()} will give it; -1 if unknown (then estimated from the
   *     duration and the frame count)
   * @param ptsTimescale ticks per second of the frames' timestamps, positive
   */
  public VideoInfo(
      int width, int height, String codec, long durationTicks, long durationTimescale,
      long frameCount, long lastPtsTicks, long ptsTimescale) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("width and height must be positive: " + width + "x"
          + height);
    }
    if (durationTimescale <= 0 || durationTicks < 0 || frameCount < 0) {
      throw new IllegalArgumentException("invalid duration " + durationTicks + "/"
          + durationTimescale + " or frame count " + frameCount);
    }
    this.width = width;
    this.height = height;
    this.codec = Objects.requireNonNull(codec, "codec");
    this.durationTicks = durationTicks;
    this.durationTimescale = durationTimescale;
    this.frameCount = frameCount;
    if (ptsTimescale <= 0) {
      throw new IllegalArgumentException("invalid pts timescale " + ptsTimescale);
    }
    this.lastPtsTicks = lastPtsTicks;
    this.ptsTimescale = ptsTimescale;
  }

  /**
   * Presentation time of the last frame in seconds, computed as {@link DecodedFrame#ptsSeconds()}
   * computes it; when the source did not state it, estimated as the duration less one average
   * frame. Pass lengths that follow a model's own rule (a clip covers the sampling times up to its
   * last frame) are planned from it before decoding.
   */
  public double lastFrameSeconds() {
    if (lastPtsTicks >= 0) {
      return lastPtsTicks / (double) ptsTimescale;
    }
    return frameCount <= 1 ? 0 : durationSeconds() * (frameCount - 1) / frameCount;
  }

  /** Width in pixels. */
  public int width() {
    return width;
  }

  /** Height in pixels. */
  public int height() {
    return height;
  }

  /** Codec name ({@code "h264"} for the jcodec source). */
  public String codec() {
    return codec;
  }

  /** Duration in seconds ({@code durationTicks / durationTimescale}). */
  public double durationSeconds() {
    return durationTicks / (double) durationTimescale;
  }

  /** Duration in ticks of {@link #durationTimescale()}, exactly as the container states it. */
  public long durationTicks() {
    return durationTicks;
  }

  /** Ticks per second of {@link #durationTicks()}. */
  public long durationTimescale() {
    return durationTimescale;
  }

  /** Number of frames in the video track. */
  public long frameCount() {
    return frameCount;
  }

  /** Average frame rate: frame count over duration (0 for a zero duration). */
  public double averageFps() {
    return durationTicks == 0 ? 0 : frameCount / durationSeconds();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof VideoInfo)) {
      return false;
    }
    VideoInfo v = (VideoInfo) o;
    return width == v.width && height == v.height && codec.equals(v.codec)
        && durationTicks == v.durationTicks && durationTimescale == v.durationTimescale
        && frameCount == v.frameCount;
  }

  @Override
  public int hashCode() {
    return Objects.hash(width, height, codec, durationTicks, durationTimescale, frameCount);
  }

  @Override
  public String toString() {
    return "VideoInfo[" + width + "x" + height + " " + codec + ", " + durationTicks + "/"
        + durationTimescale + " s (" + durationSeconds() + " s), " + frameCount + " frames, "
        + String.format(Locale.ROOT, "%.3f", averageFps()) + " fps]";
  }
}
