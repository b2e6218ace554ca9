package io.foley4j.ffmpeg;

import io.foley4j.video.VideoSources;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** What a source reads: a file, or a video's bytes in memory (read through {@link MemoryIo}). */
final class Input {
  final Path path; // null for bytes in memory
  final ByteBuffer bytes; // read-only view, position 0; null for a file

  private Input(Path path, ByteBuffer bytes) {
    this.path = path;
    this.bytes = bytes;
  }

  static Input of(Path path) {
    return new Input(path, null);
  }

  /** {@code bytes} from its position to its limit, not copied. */
  static Input of(ByteBuffer bytes) {
    return new Input(null, bytes.slice().asReadOnlyBuffer());
  }

  /** Messages say "video " + this: "video /a/b.mp4", "video from memory (N bytes)". */
  @Override
  public String toString() {
    return path != null ? path.toString() : VideoSources.memoryLabel(bytes.remaining()).substring("video ".length());
  }
}
