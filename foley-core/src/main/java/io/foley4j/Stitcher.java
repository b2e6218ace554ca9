package io.foley4j;


/**
 * Joins segment audio into one signal: an equal-power crossfade over each overlap, then trimming
 * to the exact total length. Each call to {@link #add} returns the chunk that became final; chunks
 * are contiguous and in order. Not thread-safe (one per job).
 */
final class Stitcher {
  private final SegmentPlan plan;
  private final int sampleRate;
  private float[] tail; // the previous segment's samples that overlap the next segment
  private int next;
  private long emitted;

  Stitcher(SegmentPlan plan, int sampleRate) {
    this.plan = plan;
    this.sampleRate = sampleRate;
  }

  AudioChunk add(int k, float[] audio) {
    if (k != next) {
      throw new IllegalStateException("segment " + k + " arrived, expected " + next);
    }
    if (audio.length != plan.samplesPerSegment) {
      throw new IllegalStateException("segment audio has " + audio.length + " samples, expected " + plan.samplesPerSegment);
    }
    int ov = plan.overlapSamples;
    if (k > 0 && ov > 0) {
      for (int i = 0; i < ov; i++) {
        double u = (i + 0.5) / ov * (Math.PI / 2);
        audio[i] = (float) (tail[i] * Math.cos(u) + audio[i] * Math.sin(u));
      }
    }
    boolean last = k == plan.count - 1;
    long start = plan.sampleStart(k);
    long end = plan.chunkEnd(k);
    int n = (int) (end - start);
    float[] out = new float[n];
    System.arraycopy(audio, 0, out, 0, n);
    if (!last) {
      tail = new float[ov];
      System.arraycopy(audio, plan.hopSamples, tail, 0, ov);
    }
    if (start != emitted) {
      throw new IllegalStateException("chunk gap: starts at " + start + " after " + emitted);
    }
    emitted = end;
    next++;
    return new AudioChunk(k, start, out, sampleRate, last);
  }
}
