package io.foley4j;

import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;


/**
 * A forward-only cursor that answers "which frame is displayed at time t?" over a
 * {@link VideoSource}. Times must not decrease between calls. The frame for t is the one with the
 * largest presentation time {@code <= t} (within 1 ns, to absorb floating-point rounding); before
 * the first frame it is the first frame, and past the end it stays the last frame (the padding
 * rule). It holds at most two frames (the current one and the next), so memory does not grow with
 * the video.
 *
 * <p>Not thread-safe, like the source it reads. It does not close the source.
 */
final class FrameSampler {
  /** Tolerance for timestamps computed in floating point (1 ns). */
  private static final double EPS = 1e-9;

  private final VideoSource source;
  private DecodedFrame current;
  private DecodedFrame next;
  private boolean ended;
  private double lastT = Double.NEGATIVE_INFINITY;

  private FrameSampler(VideoSource source) {
    this.source = source;
  }

  /** A sampler that reads {@code source} from its current position. */
  public static FrameSampler over(VideoSource source) {
    if (source == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "source must not be null");
    }
    return new FrameSampler(source);
  }

  /** The source's info. */
  public VideoInfo info() {
    return source.info();
  }

  /**
   * The frame displayed at {@code t} seconds (see the class comment).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if t is NaN or smaller than the previous t
   * @throws UnsupportedVideoException {@code CORRUPT_VIDEO} if the video has no frames
   */
  public DecodedFrame frameAt(double t) {
    if (Double.isNaN(t)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "t must not be NaN");
    }
    if (t < lastT) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "FrameSampler is forward-only:"
          + " t=" + t + " s is before the previous t=" + lastT + " s; open a new source to rewind");
    }
    lastT = t;
    if (current == null) {
      current = source.next();
      if (current == null) {
        throw new UnsupportedVideoException(FoleyException.Code.CORRUPT_VIDEO,
            "the video has no decodable frames");
      }
      next = source.next();
      ended = next == null;
    }
    while (!ended && next.ptsSeconds() <= t + EPS) {
      current = next;
      next = source.next();
      ended = next == null;
    }
    return current;
  }
}
