package io.foley4j;

import io.foley4j.bundle.BundleManifest;

/**
 * How a video of a given length is cut into fixed-length overlapping segments, on the global time
 * grids of each stream. Segment {@code k} starts at {@code k × hop} seconds; all grids are aligned
 * because the manifest guarantees whole frames, latents and samples per hop.
 */
final class SegmentPlan {
  final long totalSamples;
  final int count;
  final int samplesPerSegment;
  final int hopSamples;
  final int overlapSamples;
  final int visualPerSegment;
  final int visualHop;
  final int syncPerSegment;
  final int syncHop;
  final int windows;
  final int window;
  final int stride;

  SegmentPlan(BundleManifest m, long totalSamples) {
    if (totalSamples <= 0) {
      throw new IllegalArgumentException("video has no duration");
    }
    this.totalSamples = totalSamples;
    this.samplesPerSegment = m.samplesPerSegment();
    this.overlapSamples = m.overlapSamples();
    this.hopSamples = m.hopSamples();
    this.count = m.segmentCount(totalSamples);
    double hopSeconds = m.segmentSeconds() - m.overlapSeconds();
    this.visualPerSegment = m.visualFramesPerSegment();
    this.visualHop = (int) Math.round(hopSeconds * m.visual().fps());
    this.syncPerSegment = m.syncFramesPerSegment();
    this.syncHop = (int) Math.round(hopSeconds * m.sync().fps());
    this.windows = m.syncWindowsPerSegment();
    this.window = m.sync().window();
    this.stride = m.sync().stride();
  }

  /** Exact sample count for a duration given as ticks of a timescale. */
  static long samplesFor(long ticks, long timescale, int sampleRate) {
    // round(ticks × rate / timescale) without overflow for any realistic video
    java.math.BigInteger num = java.math.BigInteger.valueOf(ticks).multiply(java.math.BigInteger.valueOf(sampleRate))
        .shiftLeft(1).add(java.math.BigInteger.valueOf(timescale));
    return num.divide(java.math.BigInteger.valueOf(timescale).shiftLeft(1)).longValueExact();
  }

  /** Global visual frame index where segment k starts. */
  int visualStart(int k) {
    return k * visualHop;
  }

  int syncStart(int k) {
    return k * syncHop;
  }

  long sampleStart(int k) {
    return (long) k * hopSamples;
  }

  /**
   * End of chunk k: where segment k+1's crossfade begins, or the exact end for the last segment.
   * Chunk k covers [sampleStart(k), chunkEnd(k)).
   */
  long chunkEnd(int k) {
    return k == count - 1 ? totalSamples : sampleStart(k) + hopSamples;
  }

  /** Visual frames of the whole plan (global grid). */
  int visualTotal() {
    return visualStart(count - 1) + visualPerSegment;
  }

  int syncTotal() {
    return syncStart(count - 1) + syncPerSegment;
  }
}
