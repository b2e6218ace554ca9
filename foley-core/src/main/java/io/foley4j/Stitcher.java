package io.foley4j;


/**
 * Joins pass audio into one signal of the exact total length. Each pass is first trimmed to the
 * samples it keeps; where it overlaps what came before, an equal-power crossfade runs over the
 * whole overlap (an end-aligned last segment overlaps more); samples past the last pass's end
 * (a single pass rounded to its sync frames can end up to half a sync frame early) are silence.
 * Each call to {@link #add} returns the chunk that became final; chunks are contiguous and in
 * order. Not thread-safe (one per job and variant).
 */
final class Stitcher {
  private final SegmentPlan plan;
  private final int sampleRate;
  private float[] pending = new float[0]; // mixed audio from `emitted` on, not final yet
  private int next;
  private long emitted;
  private final int variant;

  Stitcher(SegmentPlan plan, int sampleRate) {
    this(plan, sampleRate, 0);
  }

  /** The stitcher of variant {@code variant}'s passes (its chunks carry the variant). */
  Stitcher(SegmentPlan plan, int sampleRate, int variant) {
    this.plan = plan;
    this.sampleRate = sampleRate;
    this.variant = variant;
  }

  AudioChunk add(int k, float[] audio) {
    if (k != next) {
      throw new IllegalStateException("segment " + k + " arrived, expected " + next);
    }
    SegmentPlan.Segment seg = plan.segment(k);
    if (audio.length != seg.decodedSamples()) {
      throw new IllegalStateException("segment audio has " + audio.length + " samples, expected "
          + seg.decodedSamples());
    }
    long start = seg.sampleStart();
    if (start != emitted) {
      throw new IllegalStateException("chunk gap: starts at " + start + " after " + emitted);
    }
    int keep = seg.keepSamples();
    float[] mixed = java.util.Arrays.copyOf(audio, Math.max(keep, pending.length));
    int ov = Math.min(pending.length, keep);
    for (int i = 0; i < ov; i++) {
      double u = (i + 0.5) / ov * (Math.PI / 2);
      mixed[i] = (float) (pending[i] * Math.cos(u) + audio[i] * Math.sin(u));
    }
    System.arraycopy(pending, ov, mixed, ov, pending.length - ov); // (never: passes end in order)
    boolean last = k == plan.count - 1;
    long end = plan.chunkEnd(k);
    int n = (int) (end - start);
    float[] out = new float[n]; // past the last pass's end: silence
    System.arraycopy(mixed, 0, out, 0, Math.min(n, mixed.length));
    pending = last || n >= mixed.length ? new float[0] : java.util.Arrays.copyOfRange(mixed, n, mixed.length);
    emitted = end;
    next++;
    return new AudioChunk(variant, k, start, out, sampleRate, last);
  }
}
