package io.foley4j.jcodec;

import io.foley4j.FoleyException;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The pure-Java {@link VideoSourceFactory}: MP4/MOV files (including fragmented MP4) with 8-bit
 * 4:2:0 progressive H.264 video (Baseline, Main, High; CAVLC or CABAC), decoded with jcodec.
 * {@link VideoSources#auto()} picks it when this module is on the class path and foley-ffmpeg is
 * not (or cannot load); {@code VideoSources.named("jcodec")} names it.
 */
public final class JcodecVideoSources {
  private JcodecVideoSources() {}

  /**
   * The factory. It decodes on the calling thread and starts no threads (the decoder-thread hint
   * is ignored). Opening checks the container's stated durations against the frames' timestamps
   * (within one frame duration) and refuses a mismatch as {@code CORRUPT_VIDEO}.
   */
  public static VideoSourceFactory jcodec() {
    return FACTORY;
  }

  private static void deleteQuietly(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a temporary directory: the system cleans it up
    }
  }

  private static final VideoSourceFactory FACTORY = new VideoSourceFactory() {
    @Override
    public VideoSource open(Path file) {
      return JcodecVideoSource.open(file);
    }

    @Override
    public VideoSource open(ByteBuffer video, int decoderThreads) {
      if (video == null) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "video bytes must not be null");
      }
      return JcodecVideoSource.open(video);
    }

    /**
     * Writes a 12 s 160×120 synthetic clip (300 frames, a moving square and flashes) to a temporary
     * file and decodes it, so that the JIT has compiled the demuxer and the H.264 decoder before a
     * first request: what {@code WarmUp.FULL}'s request decoded when it read a file.
     */
    @Override
    public void warmUp() {
      Path dir = null;
      try {
        dir = Files.createTempDirectory("foley-jcodec-warm-up-");
        Path clip = dir.resolve("warm-up.mp4");
        SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(12)
            .flash(4, 0.12, 0xFFFFFF).movingSquare(0, 12, 0xFF0000).build(), clip);
        try (VideoSource s = JcodecVideoSource.open(clip)) {
          while (s.next() != null) {
            // decoding is the point
          }
        }
      } catch (IOException e) {
        throw new FoleyException(FoleyException.Code.IO, "cannot write jcodec's warm-up clip: " + e.getMessage(), e);
      } finally {
        if (dir != null) {
          deleteQuietly(dir);
        }
      }
    }

    @Override
    public String id() {
      return "jcodec-0.2.5/foley4j-2"; // 2: RGB with chroma repeated as swscale
    }

    @Override
    public String toString() {
      return "JcodecVideoSources.jcodec()";
    }
  };
}
