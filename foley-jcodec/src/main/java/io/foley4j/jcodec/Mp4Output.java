package io.foley4j.jcodec;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes {@code ftyp, mdat, moov} to a temporary file next to the target and renames it into place
 * on {@link #commit}; a failed or abandoned write leaves no partial target behind.
 */
final class Mp4Output implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private final FileChannel ch;
  private final long mdatStart;
  private long pos;
  private boolean committed;

  /** @param ftyp the complete ftyp box */
  Mp4Output(Path target, byte[] ftyp) {
    this.target = target.toAbsolutePath();
    Path dir = this.target.getParent();
    Path tmp = null;
    FileChannel c = null;
    try {
      if (dir != null) {
        Files.createDirectories(dir);
      }
      // createFile (unlike createTempFile) honours the umask, so the result is as readable as any file
      tmp = Files.createFile((dir == null ? Path.of("") : dir).resolve("." + this.target.getFileName() + "."
          + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + ".tmp"));
      c = FileChannel.open(tmp, StandardOpenOption.WRITE);
    } catch (IOException e) {
      closeQuietly(c, tmp);
      throw io(e);
    }
    this.temp = tmp;
    this.ch = c;
    try {
      write(ByteBuffer.wrap(ftyp));
      mdatStart = pos;
      // 64-bit mdat header: size=1, 'mdat', largesize patched on commit.
      ByteBuffer h = ByteBuffer.allocate(16);
      h.putInt(1).put(new byte[] {'m', 'd', 'a', 't'}).putLong(0).flip();
      write(h);
    } catch (IOException e) {
      closeQuietly(ch, temp);
      throw io(e);
    }
  }

  long position() {
    return pos;
  }

  void write(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
  }

  /** Copies {@code len} bytes at {@code srcPos} of {@code src} to the end of the output. */
  void copyFrom(FileChannel src, long srcPos, long len) throws IOException {
    long done = 0;
    while (done < len) {
      long n = src.transferTo(srcPos + done, len - done, ch.position(pos));
      if (n <= 0) {
        throw new IOException("source ended while copying " + len + " bytes at " + srcPos);
      }
      done += n;
      pos += n;
    }
  }

  /** Ends the mdat box, appends {@code moov} and atomically moves the file into place. */
  void commit(byte[] moov) {
    try {
      ByteBuffer size = ByteBuffer.allocate(8);
      size.putLong(pos - mdatStart).flip();
      while (size.hasRemaining()) {
        ch.write(size, mdatStart + 8 + size.position());
      }
      write(ByteBuffer.wrap(moov));
      ch.force(true);
      ch.close();
      try {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      committed = true;
    } catch (IOException e) {
      throw io(e);
    }
  }

  private FoleyException io(IOException e) {
    return new FoleyException(FoleyException.Code.IO, "cannot write " + target + ": "
        + e.getMessage(), e);
  }

  private static void closeQuietly(FileChannel c, Path p) {
    try {
      if (c != null) {
        c.close();
      }
    } catch (IOException | RuntimeException ignored) {
      // best effort
    }
    try {
      if (p != null) {
        Files.deleteIfExists(p);
      }
    } catch (IOException ignored) {
      // best effort
    }
  }

  @Override
  public void close() {
    if (!committed) {
      closeQuietly(ch, temp);
    }
  }
}
