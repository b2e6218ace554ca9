package io.foley4j;

import io.foley4j.bundle.BundleManifest;

/**
 * How a video of a given length becomes denoiser passes (docs/bundle-format.md, "Passes and
 * segments"):
 *
 * <ul>
 *   <li><b>One pass at the clip's own length</b> when the bundle declares
 *       {@code segment.singlePassMaxSeconds} (its length axes are symbolic) and the clip is no longer:
 *       {@code round(D × sync.fps)} sync frames (at least one window), {@code round(D × visual.fps)}
 *       visual frames, the latents those sync frames span, trimmed to the pass's length. This is
 *       how HunyuanVideo-Foley runs a clip.
 *   <li><b>Segments of the trained length</b> otherwise: segment {@code k} starts at
 *       {@code k × (seconds − overlap)}; the last one is aligned to the end of the video (it starts
 *       at {@code duration − seconds} and overlaps its neighbour more), so no frame is repeated to
 *       fill it. Only a clip shorter than one segment, on a bundle with fixed shapes, runs one
 *       segment past its end (the last frame stands for the times after it) and is trimmed.
 * </ul>
 *
 * Each pass samples frames on its own grid, {@code start + i / fps}; segments other than an
 * end-aligned last one share one global grid, so overlapping segments see the same frames.
 */
final class SegmentPlan {
  /**
   * One pass: where its audio starts in the output, where its frame grids start (seconds), its
   * frame, window and latent counts, the samples the decoder returns and the samples it keeps.
   */
  record Segment(int index, long sampleStart, double startSeconds, int visualFrames, int syncFrames, int windows,
      int syncTokens, int latents, int decodedSamples, int keepSamples) {}

  final long totalSamples;
  final int count;
  /** True when the clip runs as one pass at its own length (a symbolic-length bundle). */
  final boolean singlePass;
  final int window;
  final int stride;
  /** The last frame's timestamp the plan was made with (NaN: unknown). */
  final double lastFrameSeconds;
  private final int sampleRate;
  private final Segment regular; // the trained segment's shape, starting at 0
  private final long stepSamples;
  private final double stepSeconds;
  private final Segment last;

  /** A plan for a clip whose last frame is unknown (estimated: one average frame before its end). */
  SegmentPlan(BundleManifest m, long totalSamples) {
    this(m, totalSamples, Double.NaN);
  }

  /**
   * @param lastFrameSeconds the last frame's timestamp, for the single-pass rules that count the
   *     sampling times the frames reach; NaN when unknown
   */
  SegmentPlan(BundleManifest m, long totalSamples, double lastFrameSeconds) {
    if (totalSamples <= 0) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "video has no duration");
    }
    this.totalSamples = totalSamples;
    this.lastFrameSeconds = lastFrameSeconds;
    this.sampleRate = m.audio().sampleRate();
    this.window = m.sync().window();
    this.stride = m.sync().stride();
    this.stepSamples = m.segment().stepSamples();
    this.stepSeconds = m.segment().stepSeconds();
    this.regular = new Segment(0, 0, 0, m.segment().visualFrames(), m.segment().syncFrames(),
        m.segment().syncWindows(), m.segment().syncTokens(), m.segment().latents(), m.segment().decodedSamples(),
        m.segment().keptSamples());
    double seconds = totalSamples / (double) sampleRate;
    double single = m.segment().singlePassMaxSeconds().orElse(Double.NaN);
    if (!Double.isNaN(single) && totalSamples <= Math.round(single * sampleRate)) {
      this.singlePass = true;
      this.count = 1;
      double lastFrame = Double.isNaN(lastFrameSeconds) ? seconds - 1 / m.sync().fps() : lastFrameSeconds;
      this.last = ownLength(m, seconds, Math.min(lastFrame, seconds));
    } else {
      this.singlePass = false;
      this.count = m.segment().count(totalSamples);
      if (count == 1) {
        this.last = regular;
      } else {
        long start = totalSamples - regular.keepSamples; // end-aligned
        this.last = new Segment(count - 1, start, start / (double) sampleRate, regular.visualFrames,
            regular.syncFrames, regular.windows, regular.syncTokens, regular.latents, regular.decodedSamples,
            regular.keepSamples);
      }
    }
  }

  /**
   * The one pass over a clip of {@code seconds} whose last frame is at {@code lastFrame}, at its own
   * length, by the bundle's {@link BundleManifest.PassLength} rule.
   */
  private static Segment ownLength(BundleManifest m, double seconds, double lastFrame) {
    BundleManifest.SyncSpec s = m.sync();
    double vf = m.visual().fps();
    double sf = s.fps();
    int syncFrames;
    int visualFrames;
    double passSeconds;
    int latents;
    int keep;
    switch (m.segment().singlePassLength()) {
      case SYNC_FRAMES -> { // HunyuanVideo-Foley: every time the frames reach; the pass lasts n_sync / fps
        visualFrames = reach(vf, lastFrame, m.frameGrid());
        syncFrames = Math.max(s.window(), reach(sf, lastFrame, m.frameGrid()));
        passSeconds = syncFrames / sf;
        latents = (int) (passSeconds * m.latent().rate());
        keep = Math.multiplyExact(latents, m.segment().samplesPerLatent()); // HVF keeps every decoded sample
      }
      case SHORTEST_STREAM -> { // MMAudio: the clip, shortened to what both streams' frames cover
        passSeconds = Math.min(seconds, Math.min(reach(vf, lastFrame, m.frameGrid()) / vf,
            reach(sf, lastFrame, m.frameGrid()) / sf));
        visualFrames = (int) (vf * passSeconds);
        syncFrames = Math.max(s.window(), (int) (sf * passSeconds));
        latents = (int) Math.ceil(passSeconds * m.audio().sampleRate() / m.segment().samplesPerLatent());
        keep = (int) Math.min((long) latents * m.segment().samplesPerLatent(), Math.round(passSeconds * m.audio().sampleRate()));
      }
      default -> { // DURATION
        syncFrames = (int) Math.max(s.window(), Math.round(seconds * sf));
        visualFrames = (int) Math.round(seconds * vf);
        passSeconds = syncFrames / sf;
        double exact = syncFrames * m.latent().rate() / sf;
        long rounded = Math.round(exact);
        latents = Math.abs(exact - rounded) <= 1e-9 * Math.max(1, exact) ? (int) rounded
            : (int) Math.ceil(passSeconds * m.latent().rate() - 1e-9);
        keep = (int) Math.min((long) latents * m.segment().samplesPerLatent(), Math.round(passSeconds * m.audio().sampleRate()));
      }
    }
    visualFrames = Math.max(1, visualFrames);
    latents = Math.max(1, latents);
    int windows = (syncFrames - s.window()) / s.stride() + 1;
    int decoded = Math.multiplyExact(latents, m.segment().samplesPerLatent());
    return new Segment(0, 0, 0, visualFrames, syncFrames, windows, windows * s.tokensPerWindow(), latents, decoded,
        Math.max(1, keep));
  }

  /** {@link BundleManifest.FrameGrid#timesAtOrBefore}. */
  static int reach(double fps, double limit, BundleManifest.FrameGrid grid) {
    return grid.timesAtOrBefore(fps, limit);
  }

  /** Exact sample count for a duration given as ticks of a timescale. */
  static long samplesFor(long ticks, long timescale, int sampleRate) {
    // round(ticks × rate / timescale) without overflow for any realistic video
    java.math.BigInteger num = java.math.BigInteger.valueOf(ticks).multiply(java.math.BigInteger.valueOf(sampleRate))
        .shiftLeft(1).add(java.math.BigInteger.valueOf(timescale));
    return num.divide(java.math.BigInteger.valueOf(timescale).shiftLeft(1)).longValueExact();
  }

  /** Pass {@code k}. */
  Segment segment(int k) {
    if (k < 0 || k >= count) {
      throw new IndexOutOfBoundsException("segment " + k + " of " + count);
    }
    if (k == count - 1) {
      return last;
    }
    return new Segment(k, k * stepSamples, k * stepSeconds, regular.visualFrames, regular.syncFrames, regular.windows,
        regular.syncTokens, regular.latents, regular.decodedSamples, regular.keepSamples);
  }

  long sampleStart(int k) {
    return segment(k).sampleStart();
  }

  /**
   * End of chunk k: where segment k+1 begins, or the exact end for the last segment. Chunk k covers
   * [sampleStart(k), chunkEnd(k)).
   */
  long chunkEnd(int k) {
    return k == count - 1 ? totalSamples : sampleStart(k + 1);
  }

  /** The largest pass (for memory estimates): the trained segment, or the single pass. */
  Segment largest() {
    return singlePass ? last : regular;
  }
}
