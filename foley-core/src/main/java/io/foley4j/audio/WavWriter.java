package io.foley4j.audio;

import io.foley4j.FoleyException;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.UnaryOperator;

/**
 * Writes mono WAV files, all at once ({@link #write}) or streamed chunk by chunk as a job produces
 * them ({@link #open}, {@link #append}, {@link #close}). Not thread-safe.
 *
 * <p>Where the bytes go depends on what the path is:
 *
 * <ul>
 *   <li>a regular file or nothing yet: the data goes to a temporary sibling {@code .NAME.*.part}
 *       that is renamed over the path on close, so the file appears under its name only when
 *       complete; if anything fails (a full disk, say) the temporary file is deleted and the error
 *       is an {@code IO} {@link FoleyException} naming the path;
 *   <li>a symbolic link: it is followed and the rule applies to its target, so the link stays a
 *       link and the target is replaced atomically;
 *   <li>a FIFO, character device or other non-regular file: it is opened and written to directly,
 *       front to back, without a temporary file. {@link #write} puts the exact sizes in the header;
 *       {@link #open} cannot seek back, so its header gives the sizes as {@code 0xFFFFFFFF}
 *       (unknown length, as streaming tools write);
 *   <li>a directory: refused with {@code INVALID_ARGUMENT}.
 * </ul>
 *
 * <p>{@link #write(OutputStream, float[], int, WavFormat)} writes to a stream (standard output, a
 * socket) without closing it.
 */
public final class WavWriter implements AutoCloseable {
  private static final int HEADER = 44;
  private static final long UNKNOWN = 0xFFFFFFFFL;
  private static final int MAX_LINKS = 40;

  private final String name;
  private final Path temp;
  private final Path destination;
  private final FileChannel channel;
  private final OutputStream out;
  private final WavFormat format;
  private final int sampleRate;
  private final boolean headerFinal;
  private final ByteBuffer buf = ByteBuffer.allocate(1 << 15).order(ByteOrder.LITTLE_ENDIAN);
  private long samples;
  private boolean closed;
  private boolean failed;

  private WavWriter(String name, Path temp, Path destination, FileChannel channel, OutputStream out, int sampleRate,
      WavFormat format, long knownSamples) throws IOException {
    this.name = name;
    this.temp = temp;
    this.destination = destination;
    this.channel = channel;
    this.out = out;
    this.format = format;
    this.sampleRate = sampleRate;
    this.headerFinal = knownSamples >= 0 || channel == null;
    out.write(header(knownSamples >= 0 ? knownSamples * (format.bits / 8) : channel == null ? UNKNOWN : 0).array());
  }

  /** Starts a streamed WAV file at {@code path}. */
  public static WavWriter open(Path path, int sampleRate, WavFormat format) {
    return open(path, sampleRate, format, -1, UnaryOperator.identity());
  }

  /** Writes a whole mono signal to {@code path}. */
  public static void write(Path path, float[] samples, int sampleRate, WavFormat format) {
    write(path, samples, sampleRate, format, UnaryOperator.identity());
  }

  /**
   * Writes a whole mono signal to {@code out} (header first, exact sizes) and flushes it; the stream
   * is not closed.
   */
  public static void write(OutputStream out, float[] samples, int sampleRate, WavFormat format) {
    if (out == null) {
      throw invalid("the output stream must not be null");
    }
    check(samples, sampleRate, format);
    OutputStream keepOpen = new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
    WavWriter w;
    try {
      w = new WavWriter("the output stream", null, null, null, new BufferedOutputStream(keepOpen, 1 << 16),
          sampleRate, format, samples.length);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot write WAV to the output stream: " + e.getMessage(), e);
    }
    try (w) {
      w.append(samples, 0, samples.length);
    }
  }

  /** As {@link #write(Path, float[], int, WavFormat)}; {@code wrap} sees the raw file stream (tests inject faults). */
  static void write(Path path, float[] samples, int sampleRate, WavFormat format, UnaryOperator<OutputStream> wrap) {
    check(samples, sampleRate, format);
    try (WavWriter w = open(path, sampleRate, format, samples.length, wrap)) {
      w.append(samples, 0, samples.length);
    }
  }

  /** As {@link #open(Path, int, WavFormat)}; {@code knownSamples} ≥ 0 fixes the header up front. */
  static WavWriter open(Path path, int sampleRate, WavFormat format, long knownSamples,
      UnaryOperator<OutputStream> wrap) {
    if (path == null) {
      throw invalid("the WAV path must not be null");
    }
    if (format == null) {
      throw invalid("the WAV format must not be null; use WavFormat.PCM_16 or FLOAT_32");
    }
    if (sampleRate <= 0) {
      throw invalid("sampleRate must be positive, was " + sampleRate);
    }
    Path target = followLinks(path);
    if (Files.isDirectory(target)) {
      throw invalid("cannot write WAV file " + path + ": it is a directory; give a file name");
    }
    boolean direct = Files.exists(target) && !Files.isRegularFile(target);
    Path temp = null;
    FileChannel channel = null;
    OutputStream raw = null;
    try {
      if (direct) {
        // FIFO, device: no temporary file (it would replace the special file), no seeking
        raw = new FileOutputStream(target.toFile());
      } else {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        // createFile (unlike createTempFile) honours the umask, so the result is as readable as any file
        temp = Files.createFile(dir.resolve("." + target.getFileName() + "."
            + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + ".part"));
        channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        raw = java.nio.channels.Channels.newOutputStream(channel);
      }
      OutputStream out = new BufferedOutputStream(wrap.apply(raw), 1 << 16);
      return new WavWriter(path.toString(), temp, target, channel, out, sampleRate, format, knownSamples);
    } catch (IOException | RuntimeException e) {
      closeQuietly(raw);
      closeQuietly(channel);
      deleteQuietly(temp);
      if (e instanceof FoleyException f) {
        throw f;
      }
      throw new FoleyException(FoleyException.Code.IO, "cannot create WAV file " + path + ": " + e, e);
    }
  }

  /** Appends samples in [-1, 1] (PCM_16 clips values outside). */
  public void append(float[] data, int offset, int length) {
    if (data == null || offset < 0 || length < 0 || offset > data.length - length) {
      throw invalid("append(" + (data == null ? "null" : "float[" + data.length + "]") + ", " + offset + ", " + length
          + "): the range must lie inside the array");
    }
    if (closed || failed) {
      throw new FoleyException(FoleyException.Code.CLOSED, "WAV writer for " + name + " is "
          + (failed ? "failed" : "closed"));
    }
    try {
      for (int i = offset; i < offset + length; i++) {
        if (buf.remaining() < 4) {
          flushBuffer();
        }
        float v = data[i];
        if (format == WavFormat.PCM_16) {
          float c = Float.isNaN(v) ? 0f : Math.max(-1f, Math.min(1f, v));
          buf.putShort((short) Math.round(c * 32767f));
        } else {
          buf.putFloat(v);
        }
      }
      samples += length;
    } catch (IOException e) {
      throw fail("cannot write WAV file " + name, e);
    }
  }

  private void flushBuffer() throws IOException {
    out.write(buf.array(), 0, buf.position());
    buf.clear();
  }

  /** Samples written so far. */
  public long samplesWritten() {
    return samples;
  }

  /**
   * Finishes the header and moves the file to its final name. Idempotent. After a failed write it
   * does nothing: the partial file was already deleted.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (failed) {
      return;
    }
    boolean done = false;
    try {
      flushBuffer();
      out.flush();
      long dataBytes = samples * (format.bits / 8);
      if (dataBytes + 36 > 0xFFFFFFFFL) {
        throw invalid("audio too long for a WAV file (" + samples + " samples); WAV sizes are 32-bit");
      }
      if (!headerFinal) {
        ByteBuffer h = header(dataBytes);
        while (h.hasRemaining()) {
          channel.write(h, h.position());
        }
      }
      if (channel != null) {
        channel.force(false);
      }
      out.close();
      if (temp != null) {
        try {
          Files.move(temp, destination, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temp, destination, StandardCopyOption.REPLACE_EXISTING);
        }
      }
      done = true;
    } catch (IOException e) {
      throw fail("cannot finish WAV file " + name, e);
    } finally {
      if (!done) {
        discard();
      }
    }
  }

  private FoleyException fail(String what, IOException e) {
    discard();
    return new FoleyException(FoleyException.Code.IO, what + ": " + e.getMessage()
        + (temp != null ? "; the partial file was removed" : "") + "; free some space or write elsewhere", e);
  }

  /** Closes everything and deletes the temporary file, each step on its own so one failure cannot skip the next. */
  private void discard() {
    failed = true;
    closeQuietly(out);
    closeQuietly(channel);
    deleteQuietly(temp);
  }

  /** {@code path} with symbolic links followed (also dangling ones, to the path they name). */
  static Path followLinks(Path path) {
    Path p = path;
    try {
      for (int i = 0; i < MAX_LINKS && Files.isSymbolicLink(p); i++) {
        Path link = Files.readSymbolicLink(p);
        Path parent = p.toAbsolutePath().getParent();
        p = parent == null ? link : parent.resolve(link);
      }
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read the symbolic link " + p + ": " + e, e);
    }
    if (Files.isSymbolicLink(p)) {
      throw invalid("cannot write " + path + ": more than " + MAX_LINKS + " levels of symbolic links");
    }
    return p;
  }

  private static void check(float[] samples, int sampleRate, WavFormat format) {
    if (samples == null) {
      throw invalid("the samples must not be null");
    }
    if (format == null) {
      throw invalid("the WAV format must not be null; use WavFormat.PCM_16 or FLOAT_32");
    }
    if (sampleRate <= 0) {
      throw invalid("sampleRate must be positive, was " + sampleRate);
    }
    if ((long) samples.length * (format.bits / 8) + 36 > 0xFFFFFFFFL) {
      throw invalid("audio too long for a WAV file (" + samples.length + " samples); WAV sizes are 32-bit: "
          + "write FLOAT_32 as PCM_16 or split the audio");
    }
  }

  private static FoleyException invalid(String message) {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, message);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      if (c != null) {
        c.close();
      }
    } catch (Exception ignored) {
      // best effort: the caller is already failing
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      if (p != null) {
        Files.deleteIfExists(p);
      }
    } catch (IOException ignored) {
      // best effort: the caller is already failing
    }
  }

  private ByteBuffer header(long dataBytes) {
    int blockAlign = format.bits / 8;
    long riff = dataBytes == UNKNOWN ? UNKNOWN : 36 + dataBytes;
    ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
    h.put(new byte[] {'R', 'I', 'F', 'F'}).putInt((int) riff).put(new byte[] {'W', 'A', 'V', 'E'});
    h.put(new byte[] {'f', 'm', 't', ' '}).putInt(16).putShort((short) format.tag).putShort((short) 1)
        .putInt(sampleRate).putInt(sampleRate * blockAlign).putShort((short) blockAlign).putShort((short) format.bits);
    h.put(new byte[] {'d', 'a', 't', 'a'}).putInt((int) dataBytes);
    h.flip();
    return h;
  }
}
