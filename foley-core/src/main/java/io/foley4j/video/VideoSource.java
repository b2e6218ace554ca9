package io.foley4j.video;

/**
 * A decoded video: its {@link #info()} and its frames in presentation order.
 *
 * <p>A {@code VideoSource} is <b>not thread-safe</b>: use it from one thread at a time (hand it
 * over with proper happens-before, e.g. through an executor). Memory use does not grow with the
 * video's length: a source holds at most a small reorder window of frames.
 */
public interface VideoSource extends AutoCloseable {

  /** Facts about the video track, available right after opening. */
  VideoInfo info();

  /**
   * The next frame in presentation order (strictly increasing timestamps), or {@code null} at the
   * end. Each returned frame is independent of the source (its planes are copies).
   *
   * @throws io.foley4j.UnsupportedVideoException with {@code CORRUPT_VIDEO} if the stream cannot be
   *     decoded
   * @throws io.foley4j.FoleyException with {@code CLOSED} after {@link #close()}
   */
  DecodedFrame next();

  /** Releases the file and decoder. Idempotent. */
  @Override
  void close();
}
