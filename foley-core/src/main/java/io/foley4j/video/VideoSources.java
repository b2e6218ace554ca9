package io.foley4j.video;

/** Factories for the built-in {@link VideoSourceFactory} implementations. */
public final class VideoSources {
  private VideoSources() {}

  /**
   * Pure-Java decoding with jcodec: MP4/MOV files with 8-bit 4:2:0 progressive H.264 video
   * (Baseline, Main, High; CAVLC or CABAC). Decodes on the calling thread and starts no threads.
   */
  public static VideoSourceFactory jcodec() {
    return JCODEC;
  }

  private static final VideoSourceFactory JCODEC = new VideoSourceFactory() {
    @Override
    public VideoSource open(java.nio.file.Path file) {
      return JcodecVideoSource.open(file);
    }

    @Override
    public String id() {
      return "jcodec-0.2.5/foley4j-1";
    }

    @Override
    public String toString() {
      return "VideoSources.jcodec()";
    }
  };
}
