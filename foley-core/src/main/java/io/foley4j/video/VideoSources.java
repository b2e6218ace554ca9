package io.foley4j.video;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds the {@link VideoSourceFactory} of a decoder module on the class path (foley-ffmpeg,
 * foley-jcodec) through {@link VideoSourceProvider}; foley-core itself holds no container or codec.
 */
public final class VideoSources {
  private static final int S_IFMT = 0170000;
  private static final int S_IFIFO = 0010000;
  private static final int S_IFCHR = 0020000;
  private static final int S_IFBLK = 0060000;
  private static final int S_IFSOCK = 0140000;

  private VideoSources() {}

  /**
   * The best decoder on this class path: the {@link VideoSourceProvider} of highest priority whose
   * factory loads (foley-ffmpeg's when that module is present, else foley-jcodec's). A provider
   * that is present but cannot load (its natives are missing for this platform) is skipped with
   * one warning on the {@code io.foley4j.video} logger. Each call looks again; the providers
   * themselves load their natives only once.
   *
   * @throws io.foley4j.UnsupportedVideoException {@code UNSUPPORTED_VIDEO} if no decoder on the
   *     class path loads: the message says to add io.foley4j:foley-ffmpeg or io.foley4j:foley-jcodec
   */
  public static VideoSourceFactory auto() {
    return auto(providers());
  }

  /** {@link #auto()} over these providers, best first. */
  static VideoSourceFactory auto(List<VideoSourceProvider> providers) {
    List<String> failed = new ArrayList<>();
    for (VideoSourceProvider p : providers) {
      try {
        return p.factory();
      } catch (FoleyException | LinkageError e) {
        System.getLogger("io.foley4j.video").log(System.Logger.Level.WARNING, "video decoder \""
            + p.name() + "\" is on the class path but cannot load (" + e.getMessage()
            + "); trying the next decoder");
        failed.add(p.name() + ": " + e.getMessage());
      }
    }
    throw new io.foley4j.UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, (failed.isEmpty()
        ? "no video decoder on the class path"
        : "no video decoder on the class path loads here (" + String.join("; ", failed) + ")")
        + ": add io.foley4j:foley-ffmpeg (FFmpeg: most containers and codecs) or io.foley4j:foley-jcodec (pure"
        + " Java: H.264 in MP4/MOV) to the application's dependencies, or pass your own VideoSourceFactory");
  }

  /**
   * The decoder called {@code name}: the {@link VideoSourceProvider#name()} of a provider on the
   * class path ({@code "ffmpeg"} with foley-ffmpeg, {@code "jcodec"} with foley-jcodec). Unlike
   * {@link #auto()} it never falls back.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if no decoder has that name (the message lists
   *     those present); {@code UNSUPPORTED_VIDEO} if it is present but cannot load here
   */
  public static VideoSourceFactory named(String name) {
    return named(name, providers());
  }

  /** {@link #named(String)} over these providers. */
  static VideoSourceFactory named(String name, List<VideoSourceProvider> providers) {
    if (name == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "decoder name must not be null");
    }
    String n = name.trim().toLowerCase(Locale.ROOT);
    List<String> names = new ArrayList<>();
    for (VideoSourceProvider p : providers) {
      if (p.name().equals(n)) {
        try {
          return p.factory();
        } catch (LinkageError e) {
          throw new FoleyException(FoleyException.Code.UNSUPPORTED_VIDEO, "video decoder \"" + n
              + "\" cannot load on this host: " + e, e);
        }
      }
      names.add(p.name());
    }
    String hint = n.equals("ffmpeg") || n.equals("jcodec") ? ": add io.foley4j:foley-" + n + " to the class path" : "";
    throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "no video decoder named \""
        + name + "\" on the class path (present: " + (names.isEmpty() ? "none" : String.join(", ", names)) + ")"
        + hint);
  }

  /** The providers on the class path, highest priority first. */
  static List<VideoSourceProvider> providers() {
    List<VideoSourceProvider> out = new ArrayList<>();
    ServiceLoader<VideoSourceProvider> loader =
        ServiceLoader.load(VideoSourceProvider.class, VideoSources.class.getClassLoader());
    var it = loader.iterator();
    while (true) {
      try {
        if (!it.hasNext()) {
          break;
        }
        out.add(it.next());
      } catch (ServiceConfigurationError e) {
        System.getLogger("io.foley4j.video").log(System.Logger.Level.WARNING,
            "skipping a video decoder that cannot be instantiated: " + e.getMessage());
      }
    }
    out.sort(Comparator.comparingInt(VideoSourceProvider::priority).reversed());
    return out;
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
        + what + ", not a regular file: pass a regular MP4/MOV file, or read a pipe or upload with"
        + " FoleyRequest.builder(InputStream), which holds it in memory (the index is read at random positions)");
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

  /**
   * How errors and logs name a video held in memory: {@code "video from memory (N bytes)"}. Decoders
   * that open from memory ({@link VideoSourceFactory#open(java.nio.ByteBuffer, int)}) use it.
   */
  public static String memoryLabel(long bytes) {
    return "video from memory (" + bytes + " bytes)";
  }
}
