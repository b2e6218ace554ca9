package io.foley4j.ffmpeg;

import io.foley4j.FoleyException;
import io.foley4j.FoleyResult;
import io.foley4j.video.VideoSources;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Writes generated audio with FFmpeg's encoders and muxers: audio files (FLAC, M4A/AAC, WAV) and
 * the source video with the audio as a new track (MP4 with AAC, MOV/MKV with PCM or FLAC). The
 * video stream is always copied packet for packet, never re-encoded.
 *
 * <p>Files are written next to {@code out} under a temporary name and moved into place when
 * complete, so a failure never leaves a half-written {@code out}.
 */
public final class FfmpegOutputs {
  /** The bit rate of AAC when none is given: 128 kbit/s. */
  public static final int DEFAULT_AAC_BITRATE = 128_000;

  /** The audio codec of a written file or track. */
  public enum AudioCodec {
    /** AAC-LC, lossy (FFmpeg's native encoder); the bit rate applies. */
    AAC,
    /** FLAC, lossless, 16-bit. */
    FLAC,
    /** Uncompressed 16-bit little-endian PCM. */
    PCM
  }

  private FfmpegOutputs() {}

  /**
   * Writes {@code result}'s audio to {@code out}, the format from its extension: {@code .flac}
   * (FLAC), {@code .m4a} (AAC at 128 kbps in MP4), {@code .wav} (16-bit PCM).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} for another extension; {@code IO} if it cannot
   *     be written
   */
  public static void writeAudio(FoleyResult result, Path out) {
    writeAudio(result, out, DEFAULT_AAC_BITRATE);
  }

  /** As {@link #writeAudio(FoleyResult, Path)}, with the AAC bit rate (bits/s) for {@code .m4a}. */
  public static void writeAudio(FoleyResult result, Path out, int aacBitrate) {
    requireResult(result);
    writeAudio(result.samples(), result.sampleRate(), out, aacBitrate);
  }

  /**
   * As {@link #writeAudio(FoleyResult, Path, int)}, for mono samples in [-1, 1] that do not come
   * from a {@link FoleyResult} in this JVM (a stored result, for one).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} for another extension, no samples or a sample
   *     rate outside 8000..384000; {@code IO} if it cannot be written
   */
  public static void writeAudio(java.nio.FloatBuffer samples, int sampleRate, Path out, int aacBitrate) {
    if (samples == null || !samples.hasRemaining()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "there are no samples to write");
    }
    if (sampleRate < 8000 || sampleRate > 384_000) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "sample rate must be 8000-384000 Hz, was "
          + sampleRate);
    }
    String ext = extension(out);
    AudioCodec codec;
    String format;
    switch (ext) {
      case "flac":
        codec = AudioCodec.FLAC;
        format = "flac";
        break;
      case "m4a":
        codec = AudioCodec.AAC;
        format = "ipod";
        break;
      case "wav":
        codec = AudioCodec.PCM;
        format = "wav";
        break;
      default:
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "audio file " + out
            + " must end in .flac, .m4a or .wav (the extension picks the format)");
    }
    write(samples, sampleRate, null, out, format, codec, aacBitrate);
  }

  /**
   * Writes {@code video} with {@code result}'s audio as its sound track to {@code out}: {@code .mp4}
   * with AAC at 128 kbps, {@code .mov} with PCM, {@code .mkv} with FLAC. Other streams of the
   * source (its own audio, subtitles) are not copied.
   */
  public static void mux(FoleyResult result, Path video, Path out) {
    String ext = extension(out);
    AudioCodec c = ext.equals("mp4") ? AudioCodec.AAC : ext.equals("mkv") ? AudioCodec.FLAC : AudioCodec.PCM;
    mux(result, video, out, c, DEFAULT_AAC_BITRATE);
  }

  /**
   * As {@link #mux(FoleyResult, Path, Path)} with the audio codec and AAC bit rate chosen: MP4
   * takes AAC or FLAC, MOV takes PCM or AAC, MKV takes all three.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} for an extension other than .mp4, .mov, .mkv,
   *     a codec the container cannot hold, {@code out} equal to {@code video}, or a bit rate outside
   *     16-512 kbps; {@code CORRUPT_VIDEO}/{@code UNSUPPORTED_VIDEO} if the video cannot be read;
   *     {@code IO} if {@code out} cannot be written
   */
  public static void mux(FoleyResult result, Path video, Path out, AudioCodec codec, int aacBitrate) {
    requireResult(result);
    VideoSources.requireRegularFile(video);
    String ext = extension(out);
    String format;
    switch (ext) {
      case "mp4":
        format = "mp4";
        break;
      case "mov":
        format = "mov";
        break;
      case "mkv":
        format = "matroska";
        break;
      default:
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "output video " + out
            + " must end in .mp4, .mov or .mkv (the extension picks the container)");
    }
    if (codec == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "audio codec must not be null");
    }
    if (ext.equals("mp4") && codec == AudioCodec.PCM) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "MP4 cannot hold PCM audio: use AAC or FLAC,"
          + " or write a .mov or .mkv");
    }
    if (ext.equals("mov") && codec == AudioCodec.FLAC) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "MOV cannot hold FLAC audio: use PCM or AAC,"
          + " or write a .mp4 or .mkv");
    }
    try {
      if (Files.exists(out) && Files.isSameFile(out, video)) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "output " + out + " is the source video;"
            + " writing it would destroy the video: choose another output path");
      }
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot compare " + out + " with " + video + ": " + e, e);
    }
    write(result.samples(), result.sampleRate(), video, out, format, codec, aacBitrate);
  }

  private static void write(FloatBuffer samples, int sampleRate, Path video, Path out, String format, AudioCodec codec,
      int bitrate) {
    if (bitrate < 16_000 || bitrate > 512_000) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "AAC bit rate must be 16000-512000 bits/s, was "
          + bitrate);
    }
    if (out == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "output path must not be null");
    }
    FfmpegNatives.load(null);
    Path abs = out.toAbsolutePath();
    Path dirPath = abs.getParent();
    if (dirPath == null || !Files.isDirectory(dirPath)) {
      throw new FoleyException(FoleyException.Code.IO, "the directory of " + out + " does not exist");
    }
    String name = abs.getFileName().toString();
    Path tmp = dirPath.resolve("." + name + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime()
        + name.substring(name.lastIndexOf('.')));
    try {
      try (Muxer m = new Muxer(tmp, format, video)) {
        m.write(samples.duplicate(), sampleRate, codec, bitrate);
      }
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot write " + out + ": " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        // best effort: a stray temporary file is named as such
      }
    }
  }

  private static void requireResult(FoleyResult result) {
    if (result == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "result must not be null");
    }
  }

  private static String extension(Path out) {
    if (out == null || out.getFileName() == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "output path must name a file, was " + out);
    }
    String n = out.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
  }
}
