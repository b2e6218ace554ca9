package io.foley4j.video;

/**
 * A video whose bytes are still arriving (an {@code InputStream} or an upload being read), as a
 * decoder sees it when it may start before the end: every byte received so far is kept, so it may
 * read (and go back to) any position it has already seen, and a read past what has arrived waits
 * for more.
 *
 * <p>Reads may come from any one thread at a time. A read waits until at least one byte at its
 * position has arrived, the video ended, or the job that reads it stopped (cancelled, past its
 * deadline): then it throws that job's {@link io.foley4j.FoleyException}, which a decoder passes on
 * as it was.
 */
public interface StreamingVideo {

  /**
   * Copies up to {@code length} bytes at {@code position} into {@code dst}, waiting until at least
   * one has arrived.
   *
   * @return how many bytes were copied (at least 1 when {@code length > 0}), or -1 if the video ended
   *     before {@code position}
   * @throws io.foley4j.FoleyException why the bytes will never come: the stream failed ({@code IO}),
   *     it is over its bound ({@code INVALID_ARGUMENT}), or the job stopped ({@code CANCELLED}, {@code
   *     DEADLINE_EXCEEDED})
   */
  int read(long position, byte[] dst, int offset, int length);

  /** Bytes received so far. */
  long received();

  /** Whether every byte has arrived (then {@link #received()} is the video's size). */
  boolean complete();

  /** How messages name this video, e.g. "video from a stream (1234 bytes so far)". */
  String describe();
}
