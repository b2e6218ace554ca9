package io.foley4j.ffmpeg;

import io.foley4j.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;

/** Test clips made by Debian's ffmpeg CLI: a dark picture with full-frame white flashes. */
final class Clips {
  /** Flash starts, on the 25 fps grid; each lasts three frames. */
  static final double[] FLASHES = {1.0, 2.32, 3.68, 5.12};
  static final double SECONDS = 6.5;

  private Clips() {}

  /** Skips without ffmpeg, fails with FOLEY_REQUIRE_FFMPEG=1. */
  static void require() {
    Assumptions.assumeTrue(TestSupport.ffmpegAvailable(), "ffmpeg/ffprobe not installed; skipping");
  }

  /** The lavfi source: {@code seconds} of 96x64 at 25 fps, flashes shifted by {@code shift} s. */
  static String source(double seconds, double shift, String size) {
    StringBuilder en = new StringBuilder();
    for (double f : FLASHES) {
      if (en.length() > 0) {
        en.append('+');
      }
      en.append(String.format(Locale.ROOT, "between(t\\,%.3f\\,%.3f)", f + shift - 0.01, f + shift + 0.11));
    }
    return String.format(Locale.ROOT, "color=c=0x101010:s=%s:r=25:d=%.3f,"
        + "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='%s'", size, seconds, en);
  }

  /** {@code ffmpeg -f lavfi -i SOURCE [filters] ARGS out}, quietly, overwriting. */
  static Path make(Path out, String source, String... args) {
    return ffmpeg(List.of("-f", "lavfi", "-i", source), args, out);
  }

  /** {@code ffmpeg -i in ARGS out}, as {@link #make}. */
  static Path convert(Path in, Path out, String... args) {
    return ffmpeg(List.of("-i", in.toString()), args, out);
  }

  private static Path ffmpeg(List<String> input, String[] args, Path out) {
    List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-nostdin", "-v", "error", "-y"));
    cmd.addAll(input);
    Collections.addAll(cmd, args);
    cmd.add(out.toString());
    TestSupport.run(cmd.toArray(new String[0]));
    return out;
  }

  /** One named variant of the flash clip in {@code dir}. */
  static Path variant(Path dir, String name) {
    Path out;
    String src = source(SECONDS, 0, "96x64");
    String[] x264 = {"-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-g", "25"};
    switch (name) {
      case "h264-mp4":
        return make(dir.resolve(name + ".mp4"), src, x264);
      case "hevc-mp4":
        return make(dir.resolve(name + ".mp4"), src, "-c:v", "libx265", "-pix_fmt", "yuv420p", "-preset",
            "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1");
      case "hevc10-mp4":
        return make(dir.resolve(name + ".mp4"), src, "-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-preset",
            "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1");
      case "h264-10bit-mkv":
        return make(dir.resolve(name + ".mkv"), src, "-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-preset",
            "veryfast");
      case "vp9-webm":
        return make(dir.resolve(name + ".webm"), src, "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "32",
            "-deadline", "realtime", "-cpu-used", "8");
      case "av1-mkv":
        return make(dir.resolve(name + ".mkv"), src, "-c:v", "libsvtav1", "-preset", "12");
      case "h264-mkv":
        return make(dir.resolve(name + ".mkv"), src, x264);
      case "h264-ts":
        return make(dir.resolve(name + ".ts"), src, x264);
      case "h264-fmp4":
        out = dir.resolve(name + ".mp4");
        return make(out, src, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-g", "25",
            "-movflags", "frag_keyframe+empty_moov+default_base_moof");
      case "prores-mov":
        return make(dir.resolve(name + ".mov"), src, "-c:v", "prores_ks", "-profile:v", "0");
      case "mjpeg-avi":
        return make(dir.resolve(name + ".avi"), src, "-c:v", "mjpeg", "-q:v", "3");
      case "rotated-mp4": {
        Path plain = make(dir.resolve(name + "-plain.mp4"), src, x264);
        return convert(plain, dir.resolve(name + ".mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90");
      }
      case "vfr-mp4": {
        // 12.5 fps for the first 3 s, 25 fps after; every flash frame is kept
        StringBuilder keep = new StringBuilder("if(lt(t\\,3)\\,not(mod(n\\,2))\\,1)");
        for (double f : FLASHES) {
          keep.append(String.format(Locale.ROOT, "+between(t\\,%.3f\\,%.3f)", f - 0.01, f + 0.11));
        }
        return make(dir.resolve(name + ".mp4"), src, "-vf", "select='" + keep + "'", "-fps_mode", "passthrough",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast");
      }
      case "editlist-mp4": {
        // a 7.5 s clip with the flashes 1 s later, cut at 1 s by stream copy: an edit list skips the first second
        Path longer = make(dir.resolve(name + "-long.mp4"), source(SECONDS + 1, 1.0, "96x64"), "-c:v", "libx264",
            "-pix_fmt", "yuv420p", "-preset", "veryfast", "-g", "250", "-bf", "2");
        out = dir.resolve(name + ".mp4");
        TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", "1.0", "-i", longer.toString(), "-c", "copy",
            out.toString());
        return out;
      }
      default:
        throw new IllegalArgumentException(name);
    }
  }

  static double probeDuration(Path f) {
    return Double.parseDouble(TestSupport.run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
        "stream=duration", "-of", "default=nw=1:nk=1", f.toString()).trim());
  }

  static boolean exists(Path p) {
    return Files.exists(p);
  }
}
