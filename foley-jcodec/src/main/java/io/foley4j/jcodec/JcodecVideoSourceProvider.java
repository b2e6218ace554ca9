package io.foley4j.jcodec;

import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSourceProvider;

/**
 * Lets {@link io.foley4j.video.VideoSources#auto()} find the pure-Java decoder, at a lower priority
 * than foley-ffmpeg's: with both on the class path, FFmpeg decodes.
 */
public final class JcodecVideoSourceProvider implements VideoSourceProvider {
  /** Below foley-ffmpeg's 100. */
  static final int PRIORITY = 10;

  /** For {@link java.util.ServiceLoader}. */
  public JcodecVideoSourceProvider() {}

  @Override
  public String name() {
    return "jcodec";
  }

  @Override
  public int priority() {
    return PRIORITY;
  }

  @Override
  public VideoSourceFactory factory() {
    return JcodecVideoSources.jcodec();
  }
}
