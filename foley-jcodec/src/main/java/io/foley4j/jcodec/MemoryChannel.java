package io.foley4j.jcodec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * A read-only {@link SeekableByteChannel} over bytes in memory, for decoders that need random access
 * (an MP4's index may be at its end). It owns a view of the buffer (its own position), never
 * copies it, and drops the view on close.
 */
final class MemoryChannel implements SeekableByteChannel {
  private ByteBuffer bytes;
  private long position;

  /** A channel over {@code bytes}' remaining bytes (from its position to its limit); the buffer is not changed. */
  MemoryChannel(ByteBuffer bytes) {
    this.bytes = bytes.slice().asReadOnlyBuffer();
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    ByteBuffer b = open();
    if (position >= b.limit()) {
      return dst.hasRemaining() ? -1 : 0;
    }
    int n = (int) Math.min(dst.remaining(), b.limit() - position);
    dst.put(b.duplicate().position((int) position).limit((int) position + n));
    position += n;
    return n;
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public long position() throws IOException {
    open();
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws IOException {
    open();
    if (newPosition < 0) {
      throw new IllegalArgumentException("negative position " + newPosition);
    }
    position = newPosition;
    return this;
  }

  @Override
  public long size() throws IOException {
    return open().limit();
  }

  @Override
  public SeekableByteChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public boolean isOpen() {
    return bytes != null;
  }

  @Override
  public void close() {
    bytes = null;
  }

  private ByteBuffer open() throws ClosedChannelException {
    ByteBuffer b = bytes;
    if (b == null) {
      throw new ClosedChannelException();
    }
    return b;
  }
}
