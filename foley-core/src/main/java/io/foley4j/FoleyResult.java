package io.foley4j;

import io.foley4j.audio.WavFormat;
import io.foley4j.audio.WavWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Generated audio for a whole video: mono, {@link #sampleRate()} Hz, exactly the video's duration
 * long, plus where the time went. Immutable.
 *
 * <p>A request for several variants ({@link FoleyRequest#variants()}) gets one result per variant:
 * the result a job completes with is variant 0, and {@link #variant(int)} gives each of them (all
 * share the request and the timings of the one computation).
 */
public final class FoleyResult {
  private final FoleyRequest request;
  private final float[][] variants; // every variant's samples; this result's are variants[variant]
  private final int variant;
  private final float[] samples;
  private final int sampleRate;
  private final StageTimings timings;
  private final SourceStamp source; // null: not known, only the duration is checked at mux time

  /** The array is not copied. */
  FoleyResult(FoleyRequest request, float[] samples, int sampleRate, StageTimings timings) {
    this(request, samples, sampleRate, timings, null);
  }

  /** For the engine: {@code source} is the stamp of the request's video taken when the job read it. */
  FoleyResult(FoleyRequest request, float[] samples, int sampleRate, StageTimings timings, SourceStamp source) {
    this(request, new float[][] {samples}, 0, sampleRate, timings, source);
  }

  /** For the engine: variant {@code variant} of {@code variants} (one array per variant, not copied). */
  FoleyResult(FoleyRequest request, float[][] variants, int variant, int sampleRate, StageTimings timings,
      SourceStamp source) {
    this.request = request;
    this.variants = variants;
    this.variant = variant;
    this.samples = variants[variant];
    this.sampleRate = sampleRate;
    this.timings = timings;
    this.source = source;
  }

  public FoleyRequest request() {
    return request;
  }

  /** How many variants the request asked for, and this result holds ({@link #variant(int)}). */
  public int variantCount() {
    return variants.length;
  }

  /** Which variant this result is: 0 for the result a job completes with. */
  public int variantIndex() {
    return variant;
  }

  /** The seed this variant's noise came from: {@link FoleyRequest#variantSeed(int)} of its index. */
  public long seed() {
    return request.variantSeed(variant);
  }

  /**
   * Variant {@code i}'s result (this one for {@code i == variantIndex()}); same request, rate and
   * timings, its own samples.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code i} is not in [0, variantCount())
   */
  public FoleyResult variant(int i) {
    if (i < 0 || i >= variants.length) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "variant " + i + " does not exist: the result has "
          + variants.length + " variant" + (variants.length == 1 ? "" : "s") + " (0 to " + (variants.length - 1) + ")");
    }
    return i == variant ? this : new FoleyResult(request, variants, i, sampleRate, timings, source);
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

  /**
   * Writes the audio as WAV. A symbolic link is written through, a FIFO or device is streamed into
   * (see {@link WavWriter}); the request's video itself is refused.
   */
  public void writeWav(Path path, WavFormat format) {
    refuseSource(path);
    WavWriter.write(path, samples, sampleRate, format);
  }

  /** Writes the audio as WAV to a stream (standard output, say), which is flushed, not closed. */
  public void writeWav(OutputStream out, WavFormat format) {
    WavWriter.write(out, samples, sampleRate, format);
  }

  /**
   * Fails with {@code INVALID_ARGUMENT} if the request's video came from memory: there is no file
   * to copy its video track from (nor to check for changes). Muxers of other modules call it too.
   */
  public void requireVideoFile(String toDo) {
    if (request.videoInMemory()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "cannot " + toDo + ": the request's video came "
          + "from memory (" + request.input().describe() + "), so there is no video file to copy the video track "
          + "from; write the audio (writeWav) and mux it yourself, or pass the video as a file "
          + "(FoleyRequest.builder(Path)) to have it muxed");
    }
  }

  /**
   * Fails with {@code INVALID_ARGUMENT} if {@code out} is the request's video (also through a link or
   * another path): writing it would destroy the video. Writers of other modules call it before
   * writing ({@code writeWav} does).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code out} is null or the source video;
   *     {@code IO} if the two cannot be compared
   */
  public void refuseSource(Path out) {
    if (out == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the output path must not be null");
    }
    Path video = request.video();
    if (video == null) {
      return; // from memory: no file to overwrite
    }
    boolean same;
    try {
      same = Files.exists(out) && Files.exists(video) && Files.isSameFile(out, video);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot compare " + out + " with the source video " + video
          + ": " + e, e);
    }
    if (same) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "output " + out + " is the source video " + video
          + "; writing it would destroy the video: choose another output path");
    }
  }

  /**
   * Fails with {@code INVALID_ARGUMENT} if the request's video file changed since the job read it
   * (another file, size or modification time, when the engine recorded them) or is gone. Muxers of
   * other modules call it before copying the video track; it does nothing for a result whose source
   * was not recorded.
   */
  public void checkSourceUnchanged() {
    if (source != null) {
      source.check(request.video());
    }
  }

  @Override
  public String toString() {
    return "FoleyResult[" + (variants.length > 1 ? "variant " + variant + " of " + variants.length + ", " : "")
        + samples.length + " samples @ " + sampleRate + " Hz, " + timings + "]";
  }
}
