package io.foley4j.video;

/**
 * A decoder that foley-core finds on the class path with {@link java.util.ServiceLoader} (listed
 * in {@code META-INF/services/io.foley4j.video.VideoSourceProvider}), such as foley-ffmpeg's or
 * foley-jcodec's. See
 * {@link VideoSources#auto()} and {@link VideoSources#named(String)}.
 *
 * <p>Implementations need a public no-argument constructor that does no work: loading natives
 * belongs in {@link #factory()}, which is called only when the decoder is wanted.
 */
public interface VideoSourceProvider {

  /** Short lower-case name, e.g. {@code "ffmpeg"}; what {@link VideoSources#named} matches. */
  String name();

  /**
   * Higher is preferred by {@link VideoSources#auto()}: foley-ffmpeg's is 100 (the default),
   * foley-jcodec's 10.
   */
  default int priority() {
    return 100;
  }

  /**
   * The factory, loading what it needs (natives) the first time.
   *
   * @throws io.foley4j.FoleyException {@code UNSUPPORTED_VIDEO} if the decoder cannot work on this
   *     host (its natives do not load); the message says why
   */
  VideoSourceFactory factory();
}
