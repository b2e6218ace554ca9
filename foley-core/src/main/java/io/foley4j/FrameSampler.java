package io.foley4j;

import io.foley4j.bundle.BundleManifest;

import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;


/**
 * A forward-only cursor that answers "which frame stands for time t?" over a
 * {@link VideoSource}. Times must not decrease between calls. With {@link BundleManifest.FrameRule#AT_OR_BEFORE}
 * the frame for t is the one on screen: the largest presentation time {@code <= t}; with
 * {@link BundleManifest.FrameRule#AT_OR_AFTER} (HunyuanVideo-Foley, MMAudio) it is the first frame
 * whose presentation time is {@code >= t}. Comparisons allow 1 ns, to absorb floating-point
 * rounding. Before the first frame it is the first frame, and past the end it stays the last
 * frame. It holds at most two frames (the current one and the next), so memory does not grow with
 * the video.
 *
 * <p>Not thread-safe, like the source it reads. It does not close the source.
 */
final class FrameSampler {
  /** Tolerance for timestamps computed in floating point (1 ns). */
  static final double EPS = 1e-9;

  private final VideoSource source;
  private final BundleManifest.FrameRule rule;
  private final double eps;
  private DecodedFrame current;
  private DecodedFrame next;
  private boolean ended;
  private double lastT = Double.NEGATIVE_INFINITY;

  private FrameSampler(VideoSource source, BundleManifest.FrameRule rule, double eps) {
    this.source = source;
    this.rule = rule;
    this.eps = eps;
  }

  /** A sampler that reads {@code source} from its current position, with the frame on screen at t. */
  static FrameSampler over(VideoSource source) {
    return over(source, BundleManifest.FrameRule.AT_OR_BEFORE);
  }

  /** A sampler that reads {@code source} from its current position, picking frames by {@code rule}. */
  static FrameSampler over(VideoSource source, BundleManifest.FrameRule rule) {
    return over(source, rule, EPS);
  }

  /**
   * Picks frames by {@code rule}, comparing times with a tolerance of {@code eps} seconds (0 for
   * the models' exact comparisons of accumulated times).
   */
  static FrameSampler over(VideoSource source, BundleManifest.FrameRule rule, double eps) {
    if (source == null || rule == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "source and rule must not be null");
    }
    return new FrameSampler(source, rule, eps);
  }

  /** The source's info. */
  VideoInfo info() {
    return source.info();
  }

  /**
   * The frame displayed at {@code t} seconds (see the class comment).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if t is NaN or smaller than the previous t
   * @throws UnsupportedVideoException {@code CORRUPT_VIDEO} if the video has no frames
   */
  DecodedFrame frameAt(double t) {
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
    if (rule == BundleManifest.FrameRule.AT_OR_BEFORE) {
      while (!ended && next.ptsSeconds() <= t + eps) {
        advance();
      }
    } else {
      while (!ended && current.ptsSeconds() < t - eps) {
        advance();
      }
    }
    return current;
  }

  private void advance() {
    current = next;
    next = source.next();
    ended = next == null;
  }
}
