package io.foley4j;

import io.foley4j.video.StreamingVideo;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.Supplier;

/**
 * The bytes of a video from a stream, shared by the thread that reads the stream (it appends) and
 * whoever reads the video (a decoder while they arrive, or the job once they are all in). Every
 * byte is kept, up to the request's bound: a decoder may go back, and a container that needs its end
 * is opened from the same bytes once they are complete. The SHA-256 is computed as the bytes
 * arrive and is final when the stream ends.
 *
 * <p>A waiting reader looks at the job's stop reason (cancel, deadline) every {@link
 * VideoInput#STOP_CHECK_MILLIS} ms; the first failure (the stream's, the bound's, the job's) is kept
 * and thrown to every reader after it.
 */
final class GrowingBytes implements StreamingVideo {
  private final long max;
  private final MessageDigest sha; // null when no digest is wanted
  private final Supplier<FoleyException> stop;
  private byte[] buf;
  private long size;
  private boolean done;
  private FoleyException failure;
  private String digest;

  GrowingBytes(long max, boolean digest, Supplier<FoleyException> stop) {
    this.max = max;
    this.sha = digest ? sha() : null;
    this.stop = stop;
    this.buf = new byte[(int) Math.min(1 << 20, max + 1)];
  }

  /** Appends a chunk read from the stream; false once the bytes failed (the reader stops). */
  synchronized boolean append(byte[] chunk, int n, Supplier<FoleyException> tooLong) {
    if (failure != null || done) {
      return false;
    }
    if (size + n > max) {
      fail(tooLong.get());
      return false;
    }
    if (size + n > buf.length) {
      long want = Math.max(buf.length * 2L, size + n);
      buf = Arrays.copyOf(buf, (int) Math.min(want, max + 1));
    }
    System.arraycopy(chunk, 0, buf, (int) size, n);
    if (sha != null) {
      sha.update(chunk, 0, n);
    }
    size += n;
    notifyAll();
    return true;
  }

  /** The stream ended: the size and digest are final. */
  synchronized void finish() {
    if (failure == null && !done) {
      done = true;
      digest = sha != null ? HexFormat.of().formatHex(sha.digest()) : null;
      notifyAll();
    }
  }

  /** The bytes will never be complete: every reader, waiting or later, gets {@code why}. The first one wins. */
  synchronized void fail(FoleyException why) {
    if (failure == null && !done) {
      failure = why;
      notifyAll();
    }
  }

  /** Drops the bytes held (the job is done); readers after it get {@code why}. */
  synchronized void release(FoleyException why) {
    if (failure == null) {
      failure = why;
    }
    buf = new byte[0];
    notifyAll();
  }

  @Override
  public int read(long position, byte[] dst, int offset, int length) {
    while (true) {
      synchronized (this) {
        if (failure != null) {
          throw failure;
        }
        if (position < size) {
          int n = (int) Math.min(length, size - position);
          System.arraycopy(buf, (int) position, dst, offset, n);
          return n;
        }
        if (done) {
          return -1;
        }
      }
      pause();
    }
  }

  /**
   * Waits for the stream's end, then the whole video (a read-only view) and its digest.
   *
   * @throws FoleyException why it will never end: the stream's failure, the bound, the job's stop
   */
  ByteBuffer awaitAll() {
    while (true) {
      synchronized (this) {
        if (failure != null) {
          throw failure;
        }
        if (done) {
          return ByteBuffer.wrap(buf, 0, (int) size).slice().asReadOnlyBuffer();
        }
      }
      pause(); // the job's stop reason is asked outside this lock (a host's Ticker may be behind it)
    }
  }

  /** The SHA-256 of every byte (hex), once {@link #awaitAll()} returned; null if none was asked for. */
  synchronized String digest() {
    return digest;
  }

  /** Waits a little for more bytes, giving up (and failing the bytes) when the job stops or the thread is interrupted. */
  private void pause() {
    FoleyException why = stopReason();
    if (why != null) {
      fail(why);
      return;
    }
    synchronized (this) {
      if (failure != null || done) {
        return;
      }
      try {
        wait(VideoInput.STOP_CHECK_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail(new FoleyException(FoleyException.Code.CANCELLED, "interrupted while waiting for the video stream's"
            + " bytes", e));
      }
    }
  }

  private FoleyException stopReason() {
    return stop.get();
  }

  @Override
  public synchronized long received() {
    return size;
  }

  @Override
  public synchronized boolean complete() {
    return done;
  }

  @Override
  public String describe() {
    long n;
    boolean d;
    synchronized (this) {
      n = size;
      d = done;
    }
    return d ? io.foley4j.video.VideoSources.memoryLabel(n) : "video from a stream (" + n + " bytes so far)";
  }

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
