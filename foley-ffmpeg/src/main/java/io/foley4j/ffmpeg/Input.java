package io.foley4j.ffmpeg;

import io.foley4j.FoleyException;
import io.foley4j.video.StreamingVideo;
import io.foley4j.video.VideoSources;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * What a source reads: a file, a video's bytes in memory, or a video whose bytes are still arriving
 * (both read through {@link MemoryIo}).
 */
final class Input {
  final Path path; // null for bytes in memory or a stream
  final ByteBuffer bytes; // read-only view, position 0; null for a file or a stream
  final StreamingVideo stream; // null for a file or bytes
  /** Why the stream's bytes will never come (its failure, the job's stop), as its read threw it. */
  volatile FoleyException failure;

  private Input(Path path, ByteBuffer bytes, StreamingVideo stream) {
    this.path = path;
    this.bytes = bytes;
    this.stream = stream;
  }

  static Input of(Path path) {
    return new Input(path, null, null);
  }

  /** {@code bytes} from its position to its limit, not copied. */
  static Input of(ByteBuffer bytes) {
    return new Input(null, bytes.slice().asReadOnlyBuffer(), null);
  }

  static Input of(StreamingVideo stream) {
    return new Input(null, null, stream);
  }

  /** The stream's failure if there was one, else {@code e}: what a failed FFmpeg call on this input throws. */
  FoleyException or(FoleyException e) {
    FoleyException f = failure;
    return f != null ? f : e;
  }

  /** Messages say "video " + this: "video /a/b.mp4", "video from memory (N bytes)". */
  @Override
  public String toString() {
    if (path != null) {
      return path.toString();
    }
    String label = stream != null ? stream.describe() : VideoSources.memoryLabel(bytes.remaining());
    return label.startsWith("video ") ? label.substring("video ".length()) : label;
  }
}
