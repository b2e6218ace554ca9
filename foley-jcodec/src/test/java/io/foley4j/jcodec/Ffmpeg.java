package io.foley4j.jcodec;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * FFmpeg as an external client and oracle in tests. Tests call {@link #require()}: without ffmpeg
 * they are skipped, unless FOLEY_REQUIRE_FFMPEG=1 (CI), where they fail.
 */
public final class Ffmpeg {
  private static Boolean available;
  private static Path mediaDir;
  private static final ConcurrentHashMap<String, Path> MEDIA = new ConcurrentHashMap<>();

  private Ffmpeg() {}

  public static synchronized boolean available() {
    if (available == null) {
      try {
        available = exec(List.of("ffmpeg", "-version")).rc == 0
            && exec(List.of("ffprobe", "-version")).rc == 0;
      } catch (IOException e) {
        available = false;
      }
    }
    return available;
  }

  public static void require() {
    if (available()) {
      return;
    }
    if ("1".equals(System.getenv("FOLEY_REQUIRE_FFMPEG"))) {
      fail("ffmpeg/ffprobe not found on PATH but FOLEY_REQUIRE_FFMPEG=1");
    }
    Assumptions.assumeTrue(false, "ffmpeg/ffprobe not installed; skipping");
  }

  static final class Result {
    final int rc;
    final byte[] stdout;
    final String stderr;

    Result(int rc, byte[] stdout, String stderr) {
      this.rc = rc;
      this.stdout = stdout;
      this.stderr = stderr;
    }

    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }
  }

  static Result exec(List<String> cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread t = new Thread(() -> copy(p.getErrorStream(), err), "ffmpeg-stderr");
    t.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    copy(p.getInputStream(), out);
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + cmd);
      }
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return new Result(p.exitValue(), out.toByteArray(),
        new String(err.toByteArray(), StandardCharsets.UTF_8));
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try (in) {
      in.transferTo(out);
    } catch (IOException e) {
      // process ended
    }
  }

  /** Runs a command that must succeed (ffmpeg must be present); returns its output. */
  static Result run(String... cmd) {
    require();
    try {
      Result r = exec(List.of(cmd));
      if (r.rc != 0) {
        fail(String.join(" ", cmd) + " exited " + r.rc + ": " + r.stderr);
      }
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A per-JVM scratch directory for generated media, deleted at exit. */
  static synchronized Path dir() {
    if (mediaDir == null) {
      try {
        mediaDir = Files.createTempDirectory("foley4j-video-test");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Path d = mediaDir;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try (Stream<Path> s = Files.walk(d)) {
          s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
          // best effort
        }
      }));
    }
    return mediaDir;
  }

  /** Generates (once per JVM) a file with ffmpeg: {@code args} go before the output path. */
  public static Path media(String name, String... args) {
    require();
    return MEDIA.computeIfAbsent(name, n -> {
      Path out = dir().resolve(n);
      List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-v", "error", "-y"));
      cmd.addAll(List.of(args));
      cmd.add(out.toString());
      run(cmd.toArray(new String[0]));
      return out;
    });
  }

  /** The x264 High-profile clip with B-frames from the brief. */
  public static Path bframeClip() {
    return media("bframes.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
        "-c:v", "libx264", "-profile:v", "high", "-bf", "3", "-pix_fmt", "yuv420p");
  }

  /** ffprobe's best-effort frame timestamps of the first video stream. */
  static List<Double> frameTimes(Path file) {
    Result r = run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
        "frame=best_effort_timestamp_time", "-of", "csv=p=0", file.toString());
    List<Double> out = new ArrayList<>();
    for (String line : r.out().split("\\R")) {
      String v = line.split(",")[0].trim();
      if (!v.isEmpty()) {
        out.add(Double.parseDouble(v));
      }
    }
    return out;
  }

  /** One ffprobe stream value, e.g. {@code streamValue(f, "v:0", "duration")}. */
  static String streamValue(Path file, String stream, String key) {
    Result r = run("ffprobe", "-v", "error", "-count_frames", "-select_streams", stream,
        "-show_entries", "stream=" + key, "-of", "default=nw=1:nk=1", file.toString());
    return r.out().trim();
  }
}
