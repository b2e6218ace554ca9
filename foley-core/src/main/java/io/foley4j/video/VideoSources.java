package io.foley4j.video;

/** Factories for the built-in {@link VideoSourceFactory} implementations. */
public final class VideoSources {
  private VideoSources() {}

  /**
   * Pure-Java decoding with jcodec: MP4/MOV files with 8-bit 4:2:0 progressive H.264 video
   * (Baseline, Main, High; CAVLC or CABAC). Decodes on the calling thread and starts no threads.
   */
  public static VideoSourceFactory jcodec() {
    return JcodecVideoSource::open;
  }
}
