package io.foley4j;

import io.foley4j.audio.WavFormat;
import io.foley4j.audio.WavWriter;
import io.foley4j.video.Remux;
import java.nio.FloatBuffer;
import java.nio.file.Path;

/**
 * Generated audio for a whole video: mono, {@link #sampleRate()} Hz, exactly the video's duration
 * long, plus where the time went. Immutable.
 */
public final class FoleyResult {
  private final FoleyRequest request;
  private final float[] samples;
  private final int sampleRate;
  private final StageTimings timings;

  /** For foley4j; the array is not copied. */
  public FoleyResult(FoleyRequest request, float[] samples, int sampleRate, StageTimings timings) {
    this.request = request;
    this.samples = samples;
    this.sampleRate = sampleRate;
    this.timings = timings;
  }

  public FoleyRequest request() {
    return request;
  }

  /** The samples as a read-only view (no copy). */
  public FloatBuffer samples() {
    return FloatBuffer.wrap(samples).asReadOnlyBuffer();
  }

  /** A copy of the samples. */
  public float[] toArray() {
    return samples.clone();
  }

  public int sampleCount() {
    return samples.length;
  }

  public int sampleRate() {
    return sampleRate;
  }

  public double durationSeconds() {
    return samples.length / (double) sampleRate;
  }

  public StageTimings timings() {
    return timings;
  }

  /** Writes the audio as 16-bit PCM WAV. */
  public void writeWav(Path path) {
    writeWav(path, WavFormat.PCM_16);
  }

  public void writeWav(Path path, WavFormat format) {
    WavWriter.write(path, samples, sampleRate, format);
  }

  /**
   * Writes a QuickTime (.mov) file with the request's video track, copied without re-encoding, and
   * this audio as a 16-bit PCM track.
   */
  public void writeVideoWithSound(Path outMov) {
    Remux.withAudio(request.video(), samples, sampleRate, outMov);
  }

  @Override
  public String toString() {
    return "FoleyResult[" + samples.length + " samples @ " + sampleRate + " Hz, " + timings + "]";
  }
}
