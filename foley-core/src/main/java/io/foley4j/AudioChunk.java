package io.foley4j;

import java.nio.FloatBuffer;

/**
 * A piece of generated audio whose samples are final. A job's chunks arrive in time order, start
 * where the previous one ended ({@link #sampleOffset()}), and concatenate exactly to the result.
 * Immutable.
 */
public final class AudioChunk {
  private final int index;
  private final long sampleOffset;
  private final float[] samples;
  private final int sampleRate;
  private final boolean last;

  /** The array is not copied and must not be changed afterwards. */
  AudioChunk(int index, long sampleOffset, float[] samples, int sampleRate, boolean last) {
    if (index < 0 || sampleOffset < 0 || sampleRate <= 0) {
      throw new IllegalStateException("invalid chunk: index " + index + ", offset " + sampleOffset + ", rate " + sampleRate);
    }
    this.index = index;
    this.sampleOffset = sampleOffset;
    this.samples = samples;
    this.sampleRate = sampleRate;
    this.last = last;
  }

  /** 0 for the first chunk of a job, then 1, 2, ... */
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

  /** True for the job's final chunk. */
  public boolean isLast() {
    return last;
  }

  @Override
  public String toString() {
    return "AudioChunk[#" + index + ", offset " + sampleOffset + ", " + samples.length + " samples" + (last ? ", last" : "") + "]";
  }
}
