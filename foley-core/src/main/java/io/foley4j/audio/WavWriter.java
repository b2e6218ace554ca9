package io.foley4j.audio;

import io.foley4j.FoleyException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Writes mono WAV files, all at once ({@link #write}) or streamed chunk by chunk as a job produces
 * them ({@link #open}, {@link #append}, {@link #close}). The file appears under its final name only
 * when complete: data goes to a temporary sibling that is renamed on close. Not thread-safe.
 */
public final class WavWriter implements AutoCloseable {
  private static final int HEADER = 44;

  private final Path target;
  private final Path temp;
  private final FileChannel channel;
  private final OutputStream out;
  private final WavFormat format;
  private final int sampleRate;
  private final ByteBuffer buf = ByteBuffer.allocate(1 << 15).order(ByteOrder.LITTLE_ENDIAN);
  private long samples;
  private boolean closed;

  private WavWriter(Path target, int sampleRate, WavFormat format) throws IOException {
    this.target = target;
    this.format = format;
    this.sampleRate = sampleRate;
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    // createFile (unlike createTempFile) honours the umask, so the result is as readable as any file
    this.temp = Files.createFile(dir.resolve("." + target.getFileName() + "."
        + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + ".part"));
    this.channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    this.out = new BufferedOutputStream(java.nio.channels.Channels.newOutputStream(channel), 1 << 16);
    out.write(new byte[HEADER]); // patched on close
  }

  /** Starts a streamed WAV file at {@code path}. */
  public static WavWriter open(Path path, int sampleRate, WavFormat format) {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(format, "format");
    if (sampleRate <= 0) {
      throw new IllegalArgumentException("sampleRate must be positive, was " + sampleRate);
    }
    try {
      return new WavWriter(path, sampleRate, format);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot create WAV file " + path + ": " + e, e);
    }
  }

  /** Writes a whole mono signal to {@code path}. */
  public static void write(Path path, float[] samples, int sampleRate, WavFormat format) {
    try (WavWriter w = open(path, sampleRate, format)) {
      w.append(samples, 0, samples.length);
    }
  }

  /** Appends samples in [-1, 1] (PCM_16 clips values outside). */
  public void append(float[] data, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, data.length);
    if (closed) {
      throw new FoleyException(FoleyException.Code.CLOSED, "WAV writer for " + target + " is closed");
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
      throw new FoleyException(FoleyException.Code.IO, "cannot write WAV file " + target + ": " + e, e);
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

  /** Finishes the header and moves the file to its final name. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      flushBuffer();
      out.flush();
      long dataBytes = samples * (format.bits / 8);
      if (dataBytes + 36 > 0xFFFFFFFFL) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "audio too long for a WAV file ("
            + samples + " samples); WAV sizes are 32-bit");
      }
      ByteBuffer h = header(dataBytes);
      channel.write(h, 0);
      channel.force(false);
      out.close();
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot finish WAV file " + target + ": " + e, e);
    } finally {
      try {
        out.close();
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  private ByteBuffer header(long dataBytes) {
    int blockAlign = format.bits / 8;
    ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
    h.put(new byte[] {'R', 'I', 'F', 'F'}).putInt((int) (36 + dataBytes)).put(new byte[] {'W', 'A', 'V', 'E'});
    h.put(new byte[] {'f', 'm', 't', ' '}).putInt(16).putShort((short) format.tag).putShort((short) 1)
        .putInt(sampleRate).putInt(sampleRate * blockAlign).putShort((short) blockAlign).putShort((short) format.bits);
    h.put(new byte[] {'d', 'a', 't', 'a'}).putInt((int) dataBytes);
    h.flip();
    return h;
  }
}
