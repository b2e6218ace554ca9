package io.foley4j.ffmpeg;

import static org.bytedeco.ffmpeg.global.avformat.AVSEEK_FORCE;
import static org.bytedeco.ffmpeg.global.avformat.AVSEEK_SIZE;
import static org.bytedeco.ffmpeg.global.avformat.avio_alloc_context;
import static org.bytedeco.ffmpeg.global.avformat.avio_context_free;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EOF;
import static org.bytedeco.ffmpeg.global.avutil.av_free;
import static org.bytedeco.ffmpeg.global.avutil.av_malloc;

import io.foley4j.FoleyException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.ffmpeg.avformat.AVIOContext;
import org.bytedeco.ffmpeg.avformat.Read_packet_Pointer_BytePointer_int;
import org.bytedeco.ffmpeg.avformat.Seek_Pointer_long_int;
import org.bytedeco.ffmpeg.avformat.Write_packet_Pointer_BytePointer_int;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A custom AVIOContext that lets FFmpeg read (and seek in) a video held in memory. JavaCPP allows
 * only a few live instances of each callback class, so one read and one seek callback serve every
 * context: each context's {@code opaque} is a small native allocation whose address keys its state
 * here. {@link #free} releases the context, its (possibly reallocated) buffer, the opaque and the
 * state; {@link AvFree#closeInput} calls it for every demuxer opened on such a context.
 */
final class MemoryIo {
  private static final int BUFFER_SIZE = 1 << 16;
  private static final int EIO = -5; // AVERROR(EIO)
  private static final int EINVAL = -22; // AVERROR(EINVAL)
  private static final int ENOSYS = -38; // AVERROR(ENOSYS)
  private static final Map<Long, MemoryIo> LIVE = new ConcurrentHashMap<>();

  private final ByteBuffer bytes; // null for a stream
  private final Input stream; // its stream's bytes as they arrive; null for bytes in memory
  private final byte[] scratch = new byte[BUFFER_SIZE];
  private final LongPointer opaque = new LongPointer(1);
  private long pos;

  private MemoryIo(ByteBuffer bytes, Input stream) {
    this.bytes = bytes;
    this.stream = stream;
  }

  /** Contexts open now (for tests). */
  static int live() {
    return LIVE.size();
  }

  /** A reading context over {@code bytes} (position 0 to limit), which must stay unchanged until freed. */
  static AVIOContext open(ByteBuffer bytes) {
    return open(new MemoryIo(bytes.duplicate(), null));
  }

  /**
   * A reading context over a stream's bytes as they arrive: a read waits for them, and a failure of
   * the stream (or of the job) is kept in {@code in.failure} and reported to FFmpeg as an I/O error.
   * It is marked not seekable, so that no demuxer looks for an index at the end; FFmpeg still seeks
   * back within the bytes it has read (they are all kept).
   */
  static AVIOContext open(Input in) {
    AVIOContext ctx = open(new MemoryIo(null, in));
    ctx.seekable(0);
    return ctx;
  }

  private static AVIOContext open(MemoryIo io) {
    BytePointer buf = new BytePointer(av_malloc(BUFFER_SIZE));
    if (buf.isNull()) {
      io.opaque.close();
      throw new FoleyException(FoleyException.Code.INTERNAL, "out of native memory for an FFmpeg I/O buffer");
    }
    LIVE.put(io.opaque.address(), io);
    AVIOContext ctx = avio_alloc_context(buf, BUFFER_SIZE, 0, io.opaque, READ, (Write_packet_Pointer_BytePointer_int) null,
        SEEK);
    if (ctx == null || ctx.isNull()) {
      av_free(buf);
      LIVE.remove(io.opaque.address());
      io.opaque.close();
      throw new FoleyException(FoleyException.Code.INTERNAL, "out of native memory for an FFmpeg I/O context");
    }
    return ctx;
  }

  /** Frees a context made by {@link #open}; ignores null and contexts that are not ours. */
  static void free(AVIOContext ctx) {
    if (ctx == null || ctx.isNull()) {
      return;
    }
    Pointer opaque = ctx.opaque();
    MemoryIo io = opaque == null ? null : LIVE.remove(opaque.address());
    if (io == null) {
      return; // not a memory context: FFmpeg's own, freed by avformat_close_input
    }
    av_free(ctx.buffer()); // FFmpeg may have replaced the buffer it was given
    ctx.buffer(null);
    avio_context_free(ctx);
    io.opaque.close();
  }

  private int read(BytePointer buf, int size) {
    if (stream != null) {
      return readStream(buf, size);
    }
    long left = bytes.limit() - pos;
    if (left <= 0) {
      return AVERROR_EOF;
    }
    int n = (int) Math.min(size, left);
    for (int done = 0; done < n; ) {
      int k = Math.min(n - done, scratch.length);
      bytes.get((int) pos + done, scratch, 0, k);
      buf.position(done).put(scratch, 0, k);
      done += k;
    }
    buf.position(0);
    pos += n;
    return n;
  }

  private int readStream(BytePointer buf, int size) {
    int n;
    try {
      n = stream.stream.read(pos, scratch, 0, Math.min(size, scratch.length));
    } catch (FoleyException e) {
      stream.failure = e;
      return EIO;
    }
    if (n < 0) {
      return AVERROR_EOF;
    }
    buf.position(0).put(scratch, 0, n);
    buf.position(0);
    pos += n;
    return n;
  }

  private long seek(long offset, int whence) {
    int w = whence & ~AVSEEK_FORCE;
    long size = bytes != null ? bytes.limit() : stream.stream.complete() ? stream.stream.received() : -1;
    if (size < 0 && (w == AVSEEK_SIZE || w == 2)) {
      return ENOSYS; // the end is not known yet
    }
    if (w == AVSEEK_SIZE) {
      return size;
    }
    long to;
    switch (w) {
      case 0: // SEEK_SET
        to = offset;
        break;
      case 1: // SEEK_CUR
        to = pos + offset;
        break;
      case 2: // SEEK_END
        to = size + offset;
        break;
      default:
        return EINVAL;
    }
    if (to < 0) {
      return EINVAL;
    }
    pos = to;
    return to;
  }

  // Callbacks must never throw into native code: any failure is an I/O error for FFmpeg.
  private static final Read_packet_Pointer_BytePointer_int READ = new Read_packet_Pointer_BytePointer_int() {
    @Override
    public int call(Pointer opaque, BytePointer buf, int size) {
      try {
        MemoryIo io = LIVE.get(opaque.address());
        return io == null || size < 0 ? EIO : io.read(buf, size);
      } catch (Throwable e) {
        return EIO;
      }
    }
  };

  private static final Seek_Pointer_long_int SEEK = new Seek_Pointer_long_int() {
    @Override
    public long call(Pointer opaque, long offset, int whence) {
      try {
        MemoryIo io = LIVE.get(opaque.address());
        return io == null ? EIO : io.seek(offset, whence);
      } catch (Throwable e) {
        return EIO;
      }
    }
  };
}
