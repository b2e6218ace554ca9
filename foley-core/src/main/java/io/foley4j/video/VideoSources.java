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
   * The best decoder on this class path: the {@link VideoSourceProvider} of highest priority whose
   * factory loads (foley-ffmpeg's, when that module is present), else {@link #jcodec()}. A
   * provider that is present but cannot load (its natives are missing for this platform) is
   * skipped with one warning on the {@code io.foley4j.video} logger. Each call looks again; the
   * providers themselves load their natives only once.
   */
  public static VideoSourceFactory auto() {
    return auto(providers());
  }

  /** {@link #auto()} over these providers, best first. */
  static VideoSourceFactory auto(List<VideoSourceProvider> providers) {
    for (VideoSourceProvider p : providers) {
      try {
        return p.factory();
      } catch (FoleyException | LinkageError e) {
        System.getLogger("io.foley4j.video").log(System.Logger.Level.WARNING, "video decoder \""
            + p.name() + "\" is on the class path but cannot load (" + e.getMessage()
            + "); falling back to jcodec (H.264 in MP4/MOV only)");
      }
    }
    return JCODEC;
  }

  /**
   * The decoder called {@code name}: {@code "jcodec"}, or the {@link VideoSourceProvider#name()}
   * of a provider on the class path ({@code "ffmpeg"} with foley-ffmpeg). Unlike {@link #auto()}
   * it never falls back.
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
    if (n.equals("jcodec")) {
      return JCODEC;
    }
    List<String> names = new ArrayList<>(List.of("jcodec"));
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
    String hint = n.equals("ffmpeg") ? ": add io.foley4j:foley-ffmpeg to the class path" : "";
    throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "no video decoder named \""
        + name + "\" on the class path (present: " + String.join(", ", names) + ")" + hint);
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

  private static final VideoSourceFactory JCODEC = new VideoSourceFactory() {
    @Override
    public VideoSource open(java.nio.file.Path file) {
      return JcodecVideoSource.open(file);
    }

    @Override
    public VideoSource open(java.nio.ByteBuffer video, int decoderThreads) {
      if (video == null) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "video bytes must not be null");
      }
      return JcodecVideoSource.open(video);
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
