package io.foley4j.ffmpeg;

import io.foley4j.FoleyException;
import java.nio.file.Path;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avformat;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.ffmpeg.global.swscale;
import org.bytedeco.javacpp.Loader;

/**
 * Loads FFmpeg's natives once per process, the first time a factory is asked for. JavaCPP extracts
 * them into its cache directory: {@code -Dfoley4j.ffmpeg.cacheDir=DIR} (or {@link
 * FfmpegVideoSources#ffmpeg(Path)} before the first load) chooses it, else JavaCPP's own
 * {@code org.bytedeco.javacpp.cachedir}, else {@code ~/.javacpp/cache}.
 */
final class FfmpegNatives {
  static final String CACHE_DIR_PROPERTY = "foley4j.ffmpeg.cacheDir";
  private static final String JAVACPP_CACHE = "org.bytedeco.javacpp.cachedir";

  private static final Object LOCK = new Object();
  private static volatile boolean loaded;
  private static String failure; // guarded by LOCK: why loading failed, once and for all
  private static String version;
  private static long loadNanos;

  private FfmpegNatives() {}

  /**
   * Loads the natives unless they are loaded; {@code cacheDir} (may be null) applies only to the
   * first load.
   *
   * @throws FoleyException {@code UNSUPPORTED_VIDEO} if they cannot load on this host
   */
  static void load(Path cacheDir) {
    if (loaded) {
      if (cacheDir != null && !cacheDir.toAbsolutePath().toString().equals(System.getProperty(JAVACPP_CACHE))) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "FFmpeg's natives are already loaded from "
            + System.getProperty(JAVACPP_CACHE, "~/.javacpp/cache") + "; a cache directory can only be chosen before"
            + " the first load (" + cacheDir + ")");
      }
      return;
    }
    synchronized (LOCK) {
      if (loaded) {
        return;
      }
      if (failure != null) {
        throw unavailable(failure, null);
      }
      String dir = cacheDir != null ? cacheDir.toAbsolutePath().toString() : System.getProperty(CACHE_DIR_PROPERTY);
      if (dir != null && !dir.isBlank()) {
        System.setProperty(JAVACPP_CACHE, dir);
      }
      long t0 = System.nanoTime();
      try {
        Loader.load(avutil.class);
        Loader.load(avcodec.class);
        Loader.load(avformat.class);
        Loader.load(swscale.class);
        avutil.av_log_set_level(avutil.AV_LOG_QUIET); // errors come back as return codes, worded by us
        version = avformat.avformat_version() + "/" + avcodec.avcodec_version();
      } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError, ExceptionInInitializerError
        failure = e.getClass().getSimpleName() + ": " + e.getMessage();
        throw unavailable(failure, e);
      }
      loadNanos = System.nanoTime() - t0;
      loaded = true;
    }
  }

  /** libavformat and libavcodec versions ({@code AV_VERSION_INT}s), for cache keys. */
  static String version() {
    return version;
  }

  /** How long the first load took, in ns (0 if not loaded). */
  static long loadNanos() {
    return loadNanos;
  }

  private static FoleyException unavailable(String why, Throwable cause) {
    return new FoleyException(FoleyException.Code.UNSUPPORTED_VIDEO, "FFmpeg's natives cannot load on this host ("
        + why + "): foley-ffmpeg ships them for linux-x86_64 and needs the system's libudev.so.1; use"
        + " foley-jcodec (io.foley4j:foley-jcodec, H.264 in MP4/MOV) or install the missing library", cause);
  }
}
