package io.foley4j;

import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Where a request's video comes from: a file, bytes already in memory, or a stream that is read
 * once, into memory (MP4 needs random access: its index may be at the end), up to a bound.
 */
final class VideoInput {
  private final Path path;
  private final ByteBuffer bytes; // read-only view, position 0, for bytes given in memory
  private final ReadableByteChannel stream; // an InputStream is adapted
  private final long maxStreamBytes;
  private final AtomicBoolean taken = new AtomicBoolean();

  private VideoInput(Path path, ByteBuffer bytes, ReadableByteChannel stream, long maxStreamBytes) {
    this.path = path;
    this.bytes = bytes;
    this.stream = stream;
    this.maxStreamBytes = maxStreamBytes;
  }

  static VideoInput of(Path path) {
    return new VideoInput(path, null, null, 0);
  }

  static VideoInput of(ByteBuffer bytes) {
    return new VideoInput(null, bytes.slice().asReadOnlyBuffer(), null, 0);
  }

  static VideoInput of(ReadableByteChannel stream, long maxStreamBytes) {
    return new VideoInput(null, null, stream, maxStreamBytes);
  }

  static VideoInput of(InputStream stream, long maxStreamBytes) {
    return of(Channels.newChannel(stream), maxStreamBytes);
  }

  Path path() {
    return path;
  }

  boolean isStream() {
    return stream != null;
  }

  boolean inMemory() {
    return path == null;
  }

  long maxStreamBytes() {
    return maxStreamBytes;
  }

  /** How messages name this video before it is read. */
  String describe() {
    if (path != null) {
      return path.toString();
    }
    if (bytes != null) {
      return VideoSources.memoryLabel(bytes.remaining());
    }
    StreamReader r = reader;
    return r != null ? r.into.describe() : "video from a stream (not read yet)";
  }

  /**
   * Claims a stream for one job, at submission. A second submission of the same request is refused:
   * its bytes were (or are being) consumed by the first.
   */
  FoleyException claim() {
    if (stream != null && !taken.compareAndSet(false, true)) {
      return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "this request's video stream was already"
          + " submitted once, and a stream can be read only once: build a new request with a new stream, or pass the"
          + " bytes (FoleyRequest.builder(byte[])) or a file to submit the same video again");
    }
    return null;
  }

  /** Undoes {@link #claim()} for a job refused at submission (its stream was not touched). */
  void unclaim() {
    taken.set(false);
  }

  /** Closes an unread stream (a job that ends before it ran). */
  void discard() {
    released = true;
    StreamReader r = reader;
    if (r != null) {
      r.into.release(new FoleyException(FoleyException.Code.CANCELLED, "the job reading this video stream ended"));
      r.stop();
    }
    if (stream != null) {
      try {
        stream.close();
      } catch (IOException | RuntimeException e) {
        // the job is over; nothing more to do with the stream
      }
    }
  }

  /**
   * The video's bytes, loaded for one job, and their SHA-256 when {@code digest} (hex, else null). A
   * file is not loaded ({@code bytes} null, the digest read from the file). A stream is read to its
   * end, once, hashing each chunk as it arrives, and closed ({@link #start} then {@link
   * Loaded#whole()}).
   *
   * @param stop the reason the job must stop now, or null to go on
   * @throws FoleyException {@code INVALID_ARGUMENT} if a stream is longer than {@code maxStreamBytes};
   *     {@code IO} if it cannot be read, including a stream that throws an unchecked exception; what
   *     {@code stop} returned if it stopped the read
   */
  Loaded load(boolean digest, java.util.function.Supplier<FoleyException> stop, String readerName) {
    Loaded started = start(digest, stop, readerName);
    if (started.streaming() == null) {
      return started;
    }
    try {
      return started.whole();
    } catch (RuntimeException e) {
      StreamReader r = reader;
      if (r != null) {
        r.stop(); // the job gives up on the stream: the reader thread is not left reading it
      }
      throw e;
    }
  }

  /**
   * As {@link #load}, but a stream's reading only starts: the result holds its bytes as they arrive
   * ({@link Loaded#streaming()}), for a decoder that starts before the end; {@link Loaded#whole()}
   * waits for the rest.
   *
   * <p>A stream is read on a reader thread of its own ({@code readerName}), which appends what it
   * reads to a {@link GrowingBytes}; whoever waits for bytes asks {@code stop} at least every {@link
   * #STOP_CHECK_MILLIS} ms and gives up as soon as it answers (the job's deadline passed, or it was
   * cancelled). The job's end ({@link #discard()}) closes the channel and interrupts the reader
   * thread. A read that blocks in a plain {@code InputStream} cannot be interrupted in general: that
   * daemon reader thread then ends when the read returns, holding nothing of the engine's. A
   * non-blocking channel that returns 0 bytes is polled with a back-off (1 ms doubling to {@link
   * #MAX_BACKOFF_MILLIS} ms), not spun on.
   */
  Loaded start(boolean digest, java.util.function.Supplier<FoleyException> stop, String readerName) {
    if (path != null) {
      return new Loaded(null, path.toString(), digest ? CacheKeys.videoDigest(path) : null, null);
    }
    if (bytes != null) {
      return new Loaded(bytes, describe(), digest ? CacheKeys.videoDigest(bytes) : null, null);
    }
    GrowingBytes into = new GrowingBytes(maxStreamBytes, digest, stop);
    StreamReader r = new StreamReader(stream, maxStreamBytes, into, this::tooLong, readerName);
    reader = r;
    if (released) { // the job ended while it started
      r.stop();
    }
    r.start();
    return new Loaded(null, into.describe(), null, into);
  }

  private volatile StreamReader reader;
  private volatile boolean released;

  /** Longest a stream's reader waits between two looks at the job's deadline and cancellation. */
  static final long STOP_CHECK_MILLIS = 20;
  /** Longest pause between two reads of a channel that returned 0 bytes. */
  static final long MAX_BACKOFF_MILLIS = 20;

  /**
   * Reads a stream on a daemon thread of its own and appends each chunk (at most 64 KiB) to the
   * job's {@link GrowingBytes}, so that a blocked read never holds the job's thread.
   */
  private static final class StreamReader implements Runnable {
    private final ReadableByteChannel in;
    private final long maxBytes;
    private final GrowingBytes into;
    private final java.util.function.Supplier<FoleyException> tooLong;
    private final Thread thread;
    private volatile boolean stopped;

    StreamReader(ReadableByteChannel in, long maxBytes, GrowingBytes into,
        java.util.function.Supplier<FoleyException> tooLong, String name) {
      this.in = in;
      this.maxBytes = maxBytes;
      this.into = into;
      this.tooLong = tooLong;
      this.thread = new Thread(this, name);
      thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    @Override
    public void run() {
      long total = 0;
      long backoff = 1;
      FoleyException failure = null;
      boolean ended = false;
      try {
        while (!stopped) {
          // never more than one byte past the bound: enough to tell that the stream is too long
          ByteBuffer b = ByteBuffer.allocate((int) Math.min(1 << 16, maxBytes + 1 - total));
          int n = in.read(b);
          if (n < 0) {
            ended = true;
            break;
          }
          if (n == 0) { // a non-blocking channel with nothing yet: wait a little, longer each time
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
            continue;
          }
          backoff = 1;
          if (!into.append(b.array(), n, tooLong)) {
            break; // over the bound (the bytes failed with it), or the job is gone
          }
          total += n;
        }
      } catch (FoleyException e) {
        failure = e; // the caller's stream failing with a code of its own
      } catch (IOException | RuntimeException e) {
        // an unchecked exception from the caller's stream (UncheckedIOException, a wrapped socket error) is a
        // failure to read the input, not a fault of the engine
        failure = readError(total, e);
      } catch (InterruptedException e) {
        // stopped: the job is gone
      }
      // closed before the end is announced, so that whoever waits for it finds the stream closed
      try {
        in.close();
      } catch (IOException | RuntimeException e) {
        if (ended && failure == null) {
          failure = readError(total, e instanceof IOException io ? io : new IOException("closing the video stream threw "
              + e, e));
        }
      }
      if (failure != null) {
        into.fail(failure);
      } else if (ended && !stopped) {
        into.finish();
      }
    }

    private static FoleyException readError(long total, Exception e) {
      return new FoleyException(FoleyException.Code.IO, "cannot read the video stream after " + total + " bytes: "
          + "it threw " + e + "; check the stream's source, or pass the video as a file or bytes", e);
    }

    /** Ends the reading: an interruptible channel is closed by the interrupt; any other read ends when it returns. */
    void stop() {
      stopped = true;
      if (thread.isAlive()) {
        thread.interrupt();
      }
    }
  }

  private FoleyException tooLong() {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the video stream is longer than "
        + maxStreamBytes + " bytes (the request's maxStreamBytes): a stream is held in memory while its job runs, since"
        + " an MP4's index may be at its end; save the video to a file and pass its path (FoleyRequest.builder(Path)),"
        + " or raise maxStreamBytes");
  }

  /**
   * The video as one job reads it: bytes in memory (null for a file), its name in messages, its
   * digest; for a stream still arriving, {@code streaming} holds its bytes so far ({@code bytes} and
   * {@code digest} are null until {@link #whole()}).
   */
  record Loaded(ByteBuffer bytes, String name, String digest, GrowingBytes streaming) {
    VideoSource open(VideoSourceFactory factory, Path path, int threads) {
      return bytes != null ? factory.open(bytes.duplicate(), threads) : factory.open(path, threads);
    }

    /** This video with all its bytes: a stream's once it ended (waiting for it), anything else as it is. */
    Loaded whole() {
      if (streaming == null) {
        return this;
      }
      ByteBuffer all = streaming.awaitAll();
      return new Loaded(all, VideoSources.memoryLabel(all.remaining()), streaming.digest(), null);
    }
  }
}
