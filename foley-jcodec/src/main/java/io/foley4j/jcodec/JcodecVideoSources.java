package io.foley4j.jcodec;

import io.foley4j.FoleyException;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.nio.ByteBuffer;
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

    @Override
    public String id() {
      return "jcodec-0.2.5/foley4j-1";
    }

    @Override
    public String toString() {
      return "JcodecVideoSources.jcodec()";
    }
  };
}
