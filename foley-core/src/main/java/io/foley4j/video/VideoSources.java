package io.foley4j.video;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** Factories for the built-in {@link VideoSourceFactory} implementations. */
public final class VideoSources {
  private static final int S_IFMT = 0170000;
  private static final int S_IFIFO = 0010000;
  private static final int S_IFCHR = 0020000;
  private static final int S_IFBLK = 0060000;
  private static final int S_IFSOCK = 0140000;

  private VideoSources() {}

  /**
   * Pure-Java decoding with jcodec: MP4/MOV files (including fragmented MP4) with 8-bit 4:2:0
   * progressive H.264 video (Baseline, Main, High; CAVLC or CABAC). Decodes on the calling thread
   * and starts no threads. Opening checks the container's stated durations against the frames'
   * timestamps (within one frame duration) and refuses a mismatch as {@code CORRUPT_VIDEO}.
   */
  public static VideoSourceFactory jcodec() {
    return JCODEC;
  }

  /**
   * Checks, without opening it, that {@code file} is a regular file (symbolic links are followed
   * to their target). Opening a named pipe without a writer blocks forever and a device or socket
   * never ends, so a caller that hashes or reads a video should call this first; every built-in
   * source calls it before opening.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code file} is null, a directory, a named
   *     pipe (FIFO), a device or a socket (the message says which); {@code IO} if it does not exist
   *     or its attributes cannot be read
   */
  public static void requireRegularFile(Path file) {
    if (file == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "video file must not be null");
    }
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(file, BasicFileAttributes.class); // follows symbolic links
    } catch (NoSuchFileException e) {
      throw new FoleyException(FoleyException.Code.IO, "video file not found: " + file, e);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read the attributes of video file "
          + file + ": " + e.getMessage(), e);
    }
    if (a.isRegularFile()) {
      return;
    }
    String what = a.isDirectory() ? "a directory" : specialKind(file);
    throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "video file " + file + " is "
        + what + ", not a regular file: pass a regular MP4/MOV file (a stream must be saved to a"
        + " file first, since the index is read at random positions)");
  }

  private static String specialKind(Path file) {
    try {
      int mode = (Integer) Files.getAttribute(file, "unix:mode");
      switch (mode & S_IFMT) {
        case S_IFIFO:
          return "a named pipe (FIFO)";
        case S_IFCHR:
          return "a character device";
        case S_IFBLK:
          return "a block device";
        case S_IFSOCK:
          return "a socket";
        default:
          break;
      }
    } catch (IOException | RuntimeException e) {
      // no unix attribute view here: fall back to the generic description
    }
    return "a special file (a pipe, device or socket)";
  }

  private static final VideoSourceFactory JCODEC = new VideoSourceFactory() {
    @Override
    public VideoSource open(java.nio.file.Path file) {
      return JcodecVideoSource.open(file);
    }

    @Override
    public String id() {
      return "jcodec-0.2.5/foley4j-1";
    }

    @Override
    public String toString() {
      return "VideoSources.jcodec()";
    }
  };
}
