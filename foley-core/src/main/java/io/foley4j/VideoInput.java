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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
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
  private volatile String streamName = "video from a stream (not read yet)";

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
    return bytes != null ? VideoSources.memoryLabel(bytes.remaining()) : streamName;
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
   * end, once, hashing each chunk as it arrives, and closed.
   *
   * <p>A stream is read on a reader thread of its own ({@code readerName}), which hands chunks to
   * the calling thread; the caller asks {@code stop} at least every {@link #STOP_CHECK_MILLIS} ms
   * and between chunks, and gives up as soon as it answers (the job's deadline passed, or it was
   * cancelled): the caller's thread is free at once, the channel is closed and the reader thread
   * interrupted. A read that blocks in a plain {@code InputStream} cannot be interrupted in
   * general: that daemon reader thread then ends when the read returns, holding nothing of the
   * engine's. A non-blocking channel that returns 0 bytes is polled with a back-off (1 ms doubling
   * to {@link #MAX_BACKOFF_MILLIS} ms), not spun on.
   *
   * @param stop the reason the job must stop now, or null to go on
   * @throws FoleyException {@code INVALID_ARGUMENT} if a stream is longer than {@code maxStreamBytes};
   *     {@code IO} if it cannot be read, including a stream that throws an unchecked exception; what
   *     {@code stop} returned if it stopped the read
   */
  Loaded load(boolean digest, java.util.function.Supplier<FoleyException> stop, String readerName) {
    if (path != null) {
      return new Loaded(null, path.toString(), digest ? CacheKeys.videoDigest(path) : null);
    }
    if (bytes != null) {
      return new Loaded(bytes, describe(), digest ? CacheKeys.videoDigest(bytes) : null);
    }
    MessageDigest md = digest ? sha() : null;
    byte[] buf = new byte[(int) Math.min(1 << 20, maxStreamBytes + 1)];
    long total = 0;
    StreamReader reader = new StreamReader(stream, maxStreamBytes, readerName);
    try {
      while (true) {
        FoleyException why = stop.get();
        if (why != null) {
          throw why;
        }
        Object next;
        try {
          next = reader.chunks.poll(STOP_CHECK_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted while reading the video stream", e);
        }
        if (next == null) {
          continue;
        }
        if (next == StreamReader.END) {
          break;
        }
        if (next instanceof FoleyException e) {
          throw e; // the caller's stream failing with a code of its own
        }
        if (next instanceof IOException || next instanceof RuntimeException) {
          // an unchecked exception from the caller's stream (UncheckedIOException, a wrapped socket error) is a
          // failure to read the input, not a fault of the engine
          Throwable e = (Throwable) next;
          throw new FoleyException(FoleyException.Code.IO, "cannot read the video stream after " + total + " bytes: "
              + "it threw " + e + "; check the stream's source, or pass the video as a file or bytes", e);
        }
        byte[] chunk = (byte[]) next;
        if (total + chunk.length > maxStreamBytes) {
          throw tooLong();
        }
        if (total + chunk.length > buf.length) {
          long want = Math.max(buf.length * 2L, total + chunk.length);
          buf = Arrays.copyOf(buf, (int) Math.min(want, maxStreamBytes + 1));
        }
        System.arraycopy(chunk, 0, buf, (int) total, chunk.length);
        if (md != null) {
          md.update(chunk);
        }
        total += chunk.length;
      }
    } finally {
      reader.stop(); // at the end, on a failure, or when the job stopped: the stream is closed
    }
    ByteBuffer view = ByteBuffer.wrap(buf, 0, (int) total).slice().asReadOnlyBuffer();
    streamName = VideoSources.memoryLabel(total);
    return new Loaded(view, streamName, md != null ? HexFormat.of().formatHex(md.digest()) : null);
  }

  /** Longest a stream's reader waits between two looks at the job's deadline and cancellation. */
  static final long STOP_CHECK_MILLIS = 20;
  /** Longest pause between two reads of a channel that returned 0 bytes. */
  static final long MAX_BACKOFF_MILLIS = 20;

  /**
   * Reads a stream on a daemon thread of its own into a small queue of chunks (at most 4 of 64 KiB
   * waiting), so that a blocked read never holds the job's thread.
   */
  private static final class StreamReader implements Runnable {
    static final Object END = new Object();
    final java.util.concurrent.BlockingQueue<Object> chunks = new java.util.concurrent.ArrayBlockingQueue<>(4);
    private final ReadableByteChannel in;
    private final long maxBytes;
    private final Thread thread;
    private volatile boolean stopped;

    StreamReader(ReadableByteChannel in, long maxBytes, String name) {
      this.in = in;
      this.maxBytes = maxBytes;
      this.thread = new Thread(this, name);
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void run() {
      long total = 0;
      long backoff = 1;
      Object last = null; // what to hand over once the stream is closed: END, the chunk past the bound, an error
      try {
        while (!stopped) {
          // never more than one byte past the bound: enough to tell that the stream is too long
          ByteBuffer b = ByteBuffer.allocate((int) Math.min(1 << 16, maxBytes + 1 - total));
          int n = in.read(b);
          if (n < 0) {
            last = END;
            break;
          }
          if (n == 0) { // a non-blocking channel with nothing yet: wait a little, longer each time
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
            continue;
          }
          backoff = 1;
          total += n;
          byte[] chunk = Arrays.copyOf(b.array(), n);
          if (total > maxBytes) {
            last = chunk; // the caller refuses the stream as too long; nothing more is read
            break;
          }
          hand(chunk);
        }
      } catch (IOException e) {
        last = e;
      } catch (InterruptedException e) {
        last = null; // stopped: the caller is gone
      } catch (RuntimeException e) {
        last = e; // handed over as it was: the caller reports it as the cause
      }
      // closed before the last item is handed over, so that the caller returns with the stream closed
      try {
        in.close();
      } catch (IOException | RuntimeException e) {
        if (last == END) {
          last = e instanceof IOException io ? io : new IOException("closing the video stream threw " + e, e);
        }
      }
      if (last != null && !stopped) {
        hand(last);
      }
    }

    /** Queues an item for the caller, giving up when it stopped listening. */
    private void hand(Object item) {
      try {
        while (!stopped && !chunks.offer(item, STOP_CHECK_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
          // the caller is slower, or busy; try again
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Ends the reading: an interruptible channel is closed by the interrupt; any other read ends when it returns. */
    void stop() {
      stopped = true;
      if (thread.isAlive()) {
        thread.interrupt();
      }
      chunks.clear();
    }
  }

  private FoleyException tooLong() {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the video stream is longer than "
        + maxStreamBytes + " bytes (the request's maxStreamBytes): a stream is held in memory while its job runs, since"
        + " an MP4's index may be at its end; save the video to a file and pass its path (FoleyRequest.builder(Path)),"
        + " or raise maxStreamBytes");
  }

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The video as one job reads it: bytes in memory (null for a file), its name in messages, its digest. */
  record Loaded(ByteBuffer bytes, String name, String digest) {
    VideoSource open(VideoSourceFactory factory, Path path, int threads) {
      return bytes != null ? factory.open(bytes.duplicate(), threads) : factory.open(path, threads);
    }
  }
}
