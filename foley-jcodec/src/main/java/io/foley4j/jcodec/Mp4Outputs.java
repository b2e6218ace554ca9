package io.foley4j.jcodec;

import io.foley4j.FoleyException;
import io.foley4j.FoleyResult;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Pure-Java output of a result with its video: the source's H.264 track copied, not re-encoded,
 * into a QuickTime MOV with the audio as 16-bit PCM. foley-ffmpeg's {@code FfmpegOutputs.mux}
 * writes MP4/MOV/MKV with any codec FFmpeg reads.
 */
public final class Mp4Outputs {
  private Mp4Outputs() {}

  /**
   * Writes a QuickTime (.mov) file with the request's video track, copied without re-encoding, and
   * {@code result}'s audio as a 16-bit PCM track. A symbolic link is written through (its target is
   * replaced atomically); the output must be a regular file, not the source video.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code result} or {@code outMov} is null, if
   *     the request's video came from memory, if the source video changed since the job read it
   *     (another file, size or modification time, when the engine recorded them) or no longer lasts
   *     as long as this audio, if it is gone, or if {@code outMov} is the source, a directory or a
   *     FIFO/device; {@code UNSUPPORTED_VIDEO}/{@code CORRUPT_VIDEO} if the source is not an H.264
   *     MP4/MOV that jcodec reads; {@code IO} if a file cannot be read or written
   */
  public static void writeVideoWithSound(FoleyResult result, Path outMov) {
    if (result == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "result must not be null");
    }
    if (outMov == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the output path must not be null");
    }
    result.requireVideoFile("write the video with sound");
    Path video = result.request().video();
    result.refuseSource(outMov);
    result.checkSourceUnchanged();
    checkDuration(result, video);
    Path target = followLinks(outMov);
    if (Files.exists(target) && !Files.isRegularFile(target)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "cannot write " + outMov + ": a MOV file is "
          + "written out of order and must be a regular file, not a directory, FIFO or device; write a file and "
          + "copy it");
    }
    FloatBuffer samples = result.samples();
    float[] mono = new float[samples.remaining()];
    samples.get(mono);
    Remux.withAudio(video, mono, result.sampleRate(), target);
  }

  /** Fails unless the source video still lasts as long as the audio (to the millisecond). */
  private static void checkDuration(FoleyResult result, Path video) {
    VideoInfo info;
    try (VideoSource s = JcodecVideoSources.jcodec().open(video)) {
      info = s.info();
    } catch (FoleyException e) {
      throw e;
    } catch (Exception e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read video " + video + ": " + e, e);
    }
    double videoSeconds = info.durationTicks() / (double) info.durationTimescale();
    if (Math.abs(videoSeconds - result.durationSeconds()) > 0.001) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, String.format(Locale.ROOT,
          "the audio lasts %.3f s but video %s lasts %.3f s: the video changed since the audio was generated; "
              + "run the job again on the current file", result.durationSeconds(), video, videoSeconds));
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
}
