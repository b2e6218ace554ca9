package io.foley4j;

import io.foley4j.audio.WavFormat;
import io.foley4j.audio.WavWriter;
import io.foley4j.video.Remux;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSources;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Generated audio for a whole video: mono, {@link #sampleRate()} Hz, exactly the video's duration
 * long, plus where the time went. Immutable.
 */
public final class FoleyResult {
  private final FoleyRequest request;
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
    this.request = request;
    this.samples = samples;
    this.sampleRate = sampleRate;
    this.timings = timings;
    this.source = source;
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
   * Writes a QuickTime (.mov) file with the request's video track, copied without re-encoding, and
   * this audio as a 16-bit PCM track. A symbolic link is written through (its target is replaced
   * atomically); the output must be a regular file, not the source video.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if the source video changed since the job read
   *     it (another file, size or modification time, when the engine recorded them) or no longer
   *     lasts as long as this audio, if it is gone, or if {@code outMov} is the source, a directory
   *     or a FIFO/device
   */
  public void writeVideoWithSound(Path outMov) {
    if (outMov == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the output path must not be null");
    }
    requireVideoFile("write the video with sound");
    Path video = request.video();
    refuseSource(outMov);
    if (source != null) {
      source.check(video);
    }
    checkDuration(video);
    Path target = followLinks(outMov);
    if (Files.exists(target) && !Files.isRegularFile(target)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "cannot write " + outMov + ": a MOV file is "
          + "written out of order and must be a regular file, not a directory, FIFO or device; write a file and "
          + "copy it");
    }
    Remux.withAudio(video, samples, sampleRate, target);
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

  /** Refuses an output that is the request's video (also through a link or another path). */
  private void refuseSource(Path out) {
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

  /** Fails unless the source video still lasts as long as this audio (to the millisecond). */
  private void checkDuration(Path video) {
    VideoInfo info;
    try (VideoSource s = VideoSources.jcodec().open(video)) {
      info = s.info();
    } catch (FoleyException e) {
      throw e;
    } catch (Exception e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read video " + video + ": " + e, e);
    }
    double videoSeconds = info.durationTicks() / (double) info.durationTimescale();
    if (Math.abs(videoSeconds - durationSeconds()) > 0.001) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, String.format(java.util.Locale.ROOT,
          "the audio lasts %.3f s but video %s lasts %.3f s: the video changed since the audio was generated; "
              + "run the job again on the current file", durationSeconds(), video, videoSeconds));
    }
  }

  private static Path followLinks(Path p) {
    Path cur = p;
    try {
      for (int i = 0; i < 40 && Files.isSymbolicLink(cur); i++) {
        Path link = Files.readSymbolicLink(cur);
        Path parent = cur.toAbsolutePath().getParent();
        cur = parent == null ? link : parent.resolve(link);
      }
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read the symbolic link " + cur + ": " + e, e);
    }
    return cur;
  }

  @Override
  public String toString() {
    return "FoleyResult[" + samples.length + " samples @ " + sampleRate + " Hz, " + timings + "]";
  }
}
