package io.foley4j.ffmpeg;

import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSourceProvider;

/** Lets {@link io.foley4j.video.VideoSources#auto()} find FFmpeg; loads nothing until asked. */
public final class FfmpegVideoSourceProvider implements VideoSourceProvider {

  /** For {@link java.util.ServiceLoader}. */
  public FfmpegVideoSourceProvider() {}

  @Override
  public String name() {
    return "ffmpeg";
  }

  @Override
  public VideoSourceFactory factory() {
    return FfmpegVideoSources.ffmpeg();
  }
}
