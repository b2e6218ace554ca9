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
   * @throws FoleyException {@code INVALID_ARGUMENT} if a stream is longer than {@code maxStreamBytes};
   *     {@code IO} if it cannot be read, including a stream that throws an unchecked exception
   */
  Loaded load(boolean digest) {
    if (path != null) {
      return new Loaded(null, path.toString(), digest ? CacheKeys.videoDigest(path) : null);
    }
    if (bytes != null) {
      return new Loaded(bytes, describe(), digest ? CacheKeys.videoDigest(bytes) : null);
    }
    MessageDigest md = digest ? sha() : null;
    byte[] buf = new byte[(int) Math.min(1 << 20, maxStreamBytes + 1)];
    long total = 0;
    try (ReadableByteChannel in = stream) {
      while (true) {
        if (total == buf.length) {
          if (total > maxStreamBytes) {
            throw tooLong();
          }
          buf = Arrays.copyOf(buf, (int) Math.min(Math.max(buf.length * 2L, 1 << 16), maxStreamBytes + 1));
        }
        ByteBuffer dst = ByteBuffer.wrap(buf, (int) total, buf.length - (int) total);
        int n = in.read(dst);
        if (n < 0) {
          break;
        }
        if (md != null) {
          md.update(buf, (int) total, n);
        }
        total += n;
      }
    } catch (FoleyException e) {
      throw e; // over the bound, or the caller's stream failing with a code of its own
    } catch (IOException | RuntimeException e) {
      // an unchecked exception from the caller's stream (UncheckedIOException, a wrapped socket error) is a
      // failure to read the input, not a fault of the engine
      throw new FoleyException(FoleyException.Code.IO, "cannot read the video stream after " + total + " bytes: "
          + "it threw " + e + "; check the stream's source, or pass the video as a file or bytes", e);
    }
    if (total > maxStreamBytes) {
      throw tooLong();
    }
    ByteBuffer view = ByteBuffer.wrap(buf, 0, (int) total).slice().asReadOnlyBuffer();
    streamName = VideoSources.memoryLabel(total);
    return new Loaded(view, streamName, md != null ? HexFormat.of().formatHex(md.digest()) : null);
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
