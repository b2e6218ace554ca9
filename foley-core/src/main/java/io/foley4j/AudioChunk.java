package io.foley4j;

import java.nio.FloatBuffer;

/**
 * A piece of generated audio whose samples are final. A job's chunks of one variant ({@link
 * #variant()}) arrive in time order, start where the previous one of that variant ended ({@link
 * #sampleOffset()}), and concatenate exactly to that variant's result. With several variants, the
 * chunks of one segment come variant by variant (0, 1, ...) before the next segment's. Immutable.
 */
public final class AudioChunk {
  private final int index;
  private final long sampleOffset;
  private final float[] samples;
  private final int sampleRate;
  private final boolean last;
  private final int variant;

  /** The array is not copied and must not be changed afterwards. */
  AudioChunk(int index, long sampleOffset, float[] samples, int sampleRate, boolean last) {
    this(0, index, sampleOffset, samples, sampleRate, last);
  }

  /** A chunk of variant {@code variant}; the array is not copied and must not be changed afterwards. */
  AudioChunk(int variant, int index, long sampleOffset, float[] samples, int sampleRate, boolean last) {
    if (variant < 0 || index < 0 || sampleOffset < 0 || sampleRate <= 0) {
      throw new IllegalStateException("invalid chunk: variant " + variant + ", index " + index + ", offset "
          + sampleOffset + ", rate " + sampleRate);
    }
    this.variant = variant;
    this.index = index;
    this.sampleOffset = sampleOffset;
    this.samples = samples;
    this.sampleRate = sampleRate;
    this.last = last;
  }

  /**
   * The variant this chunk belongs to: 0 for a request of one variant, else 0 to {@code
   * request.variants() - 1} (see {@link FoleyRequest.Builder#variants}).
   */
  public int variant() {
    return variant;
  }

  /** 0 for the first chunk of a job's variant, then 1, 2, ... */
  public int index() {
    return index;
  }

  /** Position of the first sample of this chunk in the whole result. */
  public long sampleOffset() {
    return sampleOffset;
  }

  /** Number of samples in this chunk. */
  public int length() {
    return samples.length;
  }

  /** The samples, mono, nominally in [-1, 1], as a read-only view (no copy). */
  public FloatBuffer samples() {
    return FloatBuffer.wrap(samples).asReadOnlyBuffer();
  }

  /** A copy of the samples. */
  public float[] toArray() {
    return samples.clone();
  }

  public int sampleRate() {
    return sampleRate;
  }

  /** Start time of this chunk in seconds. */
  public double startSeconds() {
    return sampleOffset / (double) sampleRate;
  }

  /** True for the final chunk of its variant (one per variant). */
  public boolean isLast() {
    return last;
  }

  @Override
  public String toString() {
    return "AudioChunk[" + (variant > 0 ? "variant " + variant + " " : "") + "#" + index + ", offset " + sampleOffset + ", " + samples.length + " samples" + (last ? ", last" : "") + "]";
  }
}
