package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.SystemPython;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * foley-ffmpeg's RGB ({@link DecodedFrame#toRgb}) against PyAV's {@code
 * VideoFrame.to_ndarray(format="rgb24")} itself (HunyuanVideo-Foley's frames), byte for byte, on
 * clips the ffmpeg CLI makes for each pixel layout, depth, matrix, range and size. Needs the ffmpeg
 * CLI and PyAV in {@code FOLEY_PYTHON}: skips without them, fails without PyAV when
 * FOLEY_REQUIRE_TORCH=1 (CI).
 */
class PyavRgbTest {
  @TempDir
  static Path dir;

  @BeforeAll
  static void need() throws IOException {
    Clips.require();
    SystemPython.require("FOLEY_REQUIRE_TORCH", "av", "numpy");
    try (InputStream in = PyavRgbTest.class.getResourceAsStream("pyav_rgb.py")) {
      Files.write(dir.resolve("pyav_rgb.py"), in.readAllBytes());
    }
  }

  /**
   * testsrc2 (colour bars, gradients, moving text) of {@code size}, 3 frames, through {@code args};
   * an odd size is cropped from the next even one (testsrc2 itself rounds sizes down to even).
   */
  private static Path clip(String name, String size, String ext, String... args) {
    List<String> a = new ArrayList<>(List.of("-frames:v", "3"));
    a.addAll(List.of(args));
    String[] wh = size.split("x");
    int w = Integer.parseInt(wh[0]);
    int h = Integer.parseInt(wh[1]);
    String src = "testsrc2=s=" + (w + w % 2) + "x" + (h + h % 2) + ":r=25,format=yuv444p,crop=" + w + ":" + h + ":0:0";
    return Clips.make(dir.resolve(name + "." + ext), src, a.toArray(new String[0]));
  }

  private static Path make(String name) {
    switch (name) {
      case "420-untagged":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p");
      case "420-bt709":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-colorspace", "bt709",
            "-color_primaries", "bt709", "-color_trc", "bt709");
      case "420-bt601-smpte170m":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-colorspace", "smpte170m",
            "-color_primaries", "smpte170m", "-color_trc", "smpte170m");
      case "420-bt601-bt470bg":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-colorspace", "bt470bg",
            "-color_primaries", "bt470bg", "-color_trc", "gamma28");
      case "420-full-range":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-color_range", "pc");
      case "420-bt709-full-range":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-color_range", "pc",
            "-colorspace", "bt709");
      case "yuvj420p-mjpeg":
        return clip(name, "96x64", "avi", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", "3");
      case "yuvj422p-mjpeg":
        return clip(name, "96x64", "avi", "-c:v", "mjpeg", "-pix_fmt", "yuvj422p", "-q:v", "3");
      case "422-h264":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv422p");
      case "422-10bit-prores":
        return clip(name, "96x64", "mov", "-c:v", "prores_ks", "-profile:v", "2", "-pix_fmt", "yuv422p10le");
      case "444-h264":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-colorspace", "bt709");
      case "444-odd-h264":
        return clip(name, "97x61", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv444p");
      case "444-odd-height-h264":
        return clip(name, "96x63", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-color_range", "pc");
      case "420-10bit-hevc":
        return clip(name, "96x64", "mp4", "-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-x265-params",
            "log-level=error");
      case "420-10bit-bt2020-vp9":
        return clip(name, "96x64", "webm", "-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p10le", "-colorspace",
            "bt2020nc", "-color_primaries", "bt2020", "-color_trc", "smpte2084");
      case "420-odd-ffv1":
        return clip(name, "97x61", "mkv", "-c:v", "ffv1", "-pix_fmt", "yuv420p");
      case "420-odd-width-ffv1":
        return clip(name, "95x64", "mkv", "-c:v", "ffv1", "-pix_fmt", "yuv420p", "-color_range", "pc");
      case "422-odd-ffv1":
        return clip(name, "97x61", "mkv", "-c:v", "ffv1", "-pix_fmt", "yuv422p10le");
      case "pal8-png":
        return clip(name, "96x64", "mkv", "-c:v", "png", "-pix_fmt", "pal8");
      case "rgb24-png":
        return clip(name, "97x61", "mkv", "-c:v", "png", "-pix_fmt", "rgb24");
      case "gbrp-ffv1":
        return clip(name, "96x64", "mkv", "-c:v", "ffv1", "-pix_fmt", "gbrp");
      case "420-interlaced-h264":
        return clip(name, "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-flags", "+ildct+ilme",
            "-x264opts", "interlaced=1");
      default:
        if (name.startsWith("rotated-")) { // the CLI's mov muxer turns the rotate tag into a display matrix
          Path plain = clip(name + "-plain", "96x64", "mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p");
          return Clips.convert(plain, dir.resolve(name + ".mp4"), "-c", "copy", "-metadata:s:v:0",
              "rotate=" + name.substring("rotated-".length()));
        }
        throw new IllegalArgumentException(name);
    }
  }

  private record Reference(List<byte[]> frames, List<int[]> sizes, List<String> lines) {}

  private static Reference pyav(Path video) throws IOException {
    Path rgb = dir.resolve(video.getFileName() + ".rgb");
    Path txt = dir.resolve(video.getFileName() + ".txt");
    SystemPython.run(dir, Map.of(), 120, "pyav_rgb.py", video.toString(), rgb.toString(), txt.toString());
    byte[] all = Files.readAllBytes(rgb);
    List<byte[]> frames = new ArrayList<>();
    List<int[]> sizes = new ArrayList<>();
    List<String> lines = Files.readAllLines(txt, StandardCharsets.UTF_8);
    int at = 0;
    for (String line : lines) {
      String[] p = line.trim().split(" ");
      int w = Integer.parseInt(p[1]);
      int h = Integer.parseInt(p[2]);
      int ccw = Integer.parseInt(p[3]);
      sizes.add(new int[] {w, h, Math.floorMod(-ccw, 360)});
      byte[] f = new byte[3 * w * h];
      System.arraycopy(all, at, f, 0, f.length);
      at += f.length;
      frames.add(f);
    }
    assertEquals(all.length, at, "PyAV's output size");
    return new Reference(frames, sizes, lines);
  }

  /** Turns interleaved RGB {@code w x h} by {@code cw} degrees clockwise (the test's own, simple). */
  private static byte[] turn(byte[] src, int w, int h, int cw) {
    byte[] out = src;
    int ww = w;
    int hh = h;
    for (int q = 0; q < cw / 90; q++) {
      byte[] d = new byte[out.length];
      for (int y = 0; y < hh; y++) {
        for (int x = 0; x < ww; x++) { // (x, y) goes to (hh - 1 - y, x) in a hh-wide picture
          int s = 3 * (y * ww + x);
          int t = 3 * (x * hh + (hh - 1 - y));
          d[t] = out[s];
          d[t + 1] = out[s + 1];
          d[t + 2] = out[s + 2];
        }
      }
      out = d;
      int tmp = ww;
      ww = hh;
      hh = tmp;
    }
    return out;
  }

  private static String expectedSize(String name) {
    switch (name) {
      case "444-odd-h264":
      case "rgb24-png":
      case "420-odd-ffv1":
      case "422-odd-ffv1":
        return "97x61";
      case "420-odd-width-ffv1":
        return "95x64";
      case "444-odd-height-h264":
        return "96x63";
      default:
        return "96x64";
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"420-untagged", "420-bt709", "420-bt601-smpte170m", "420-bt601-bt470bg", "420-full-range",
      "420-bt709-full-range", "yuvj420p-mjpeg", "yuvj422p-mjpeg", "422-h264", "422-10bit-prores", "444-h264",
      "444-odd-h264", "420-10bit-hevc", "420-10bit-bt2020-vp9", "420-odd-ffv1", "420-odd-width-ffv1", "422-odd-ffv1",
      "420-interlaced-h264", "444-odd-height-h264", "pal8-png", "rgb24-png", "gbrp-ffv1", "rotated-90", "rotated-180", "rotated-270"})
  void rgbIsPyavsByteForByte(String name) throws IOException {
    Path video = make(name);
    Reference ref = pyav(video);
    List<DecodedFrame> frames = new ArrayList<>();
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(video)) {
      for (DecodedFrame f; (f = s.next()) != null; ) {
        frames.add(f);
      }
    }
    assertEquals(ref.frames().size(), frames.size(), "frames of " + name);
    assertTrue(frames.size() >= 3, "the clip has its frames");
    long differing = 0;
    int worst = 0;
    for (int i = 0; i < frames.size(); i++) {
      DecodedFrame f = frames.get(i);
      int[] s = ref.sizes().get(i);
      assertTrue(f.hasDecoderRgb(), "frame " + i + " carries swscale's RGB");
      byte[] want = turn(ref.frames().get(i), s[0], s[1], s[2]);
      boolean turned = s[2] == 90 || s[2] == 270;
      assertEquals(turned ? s[1] : s[0], f.width(), "upright width of frame " + i);
      assertEquals(turned ? s[0] : s[1], f.height(), "upright height of frame " + i);
      byte[] got = f.toRgb();
      assertEquals(want.length, got.length);
      for (int k = 0; k < got.length; k++) {
        int d = Math.abs((got[k] & 0xff) - (want[k] & 0xff));
        if (d != 0) {
          differing++;
          worst = Math.max(worst, d);
        }
      }
    }
    if (!name.startsWith("rotated-")) {
      String[] size = ref.lines().get(0).split(" ");
      assertEquals(expectedSize(name), size[1] + "x" + size[2], "the clip's size as PyAV decodes it");
    }
    System.out.printf(Locale.ROOT, "%s (%s): %d frames, %d bytes differ from PyAV (max %d)%n", name,
        ref.lines().get(0), frames.size(), differing, worst);
    assertEquals(0, differing, name + ": bytes that differ from PyAV's rgb24 (max difference " + worst + ")");
    if (name.startsWith("rotated-")) {
      assertTrue(ref.sizes().get(0)[2] != 0, "PyAV reports the display matrix but does not turn the picture");
    }
  }

  /** {max, mean} absolute level difference of two equally long byte arrays. */
  private static double[] distance(byte[] got, byte[] want) {
    assertEquals(want.length, got.length);
    long sum = 0;
    int max = 0;
    for (int k = 0; k < got.length; k++) {
      int d = Math.abs((got[k] & 0xff) - (want[k] & 0xff));
      sum += d;
      max = Math.max(max, d);
    }
    return new double[] {max, sum / (double) got.length};
  }

  /**
   * jcodec's frames (foley4j's own conversion, libswscale's x86-64 fixed point written in Java)
   * against PyAV's: equal to the byte. H.264 is decoded bit-exactly by both decoders (the test
   * checks that the planes are FFmpeg's), so this compares the conversions alone.
   */
  @ParameterizedTest
  @ValueSource(strings = {"testsrc2:320x180:untagged", "testsrc2:320x180:bt709", "testsrc2:320x180:full",
      "mandelbrot:320x180:untagged", "mandelbrot:320x180:bt709", "mandelbrot:320x180:bt709full",
      "testsrc2:1280x720:bt709"})
  void jcodecsOwnConversionIsPyavs(String spec) throws IOException {
    String[] p = spec.split(":");
    List<String> args = new ArrayList<>(List.of("-frames:v", "5", "-c:v", "libx264", "-pix_fmt", "yuv420p"));
    if (p[2].equals("bt709")) {
      args.addAll(List.of("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"));
    } else if (p[2].equals("full")) {
      args.addAll(List.of("-color_range", "pc"));
    } else if (p[2].equals("bt709full")) {
      args.addAll(List.of("-color_range", "pc", "-colorspace", "bt709"));
    }
    Path video = Clips.make(dir.resolve("jcodec-" + spec.replace(':', '-') + ".mp4"),
        p[0] + "=s=" + p[1] + ":r=25", args.toArray(new String[0]));
    Reference ref = pyav(video);
    List<DecodedFrame> jc = new ArrayList<>();
    try (VideoSource s = io.foley4j.jcodec.JcodecVideoSources.jcodec().open(video)) {
      for (DecodedFrame f; (f = s.next()) != null; ) {
        jc.add(f);
      }
    }
    List<DecodedFrame> ff = new ArrayList<>();
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(video)) {
      for (DecodedFrame f; (f = s.next()) != null; ) {
        ff.add(f);
      }
    }
    assertEquals(ref.frames().size(), jc.size());
    assertEquals(ref.frames().size(), ff.size());
    double max = 0;
    double mean = 0;
    for (int i = 0; i < jc.size(); i++) {
      DecodedFrame j = jc.get(i);
      DecodedFrame f = ff.get(i);
      assertTrue(!j.hasDecoderRgb(), "jcodec's frames use foley4j's own conversion");
      assertTrue(java.util.Arrays.equals(j.yPlane(), f.yPlane()) && java.util.Arrays.equals(j.uPlane(), f.uPlane())
          && java.util.Arrays.equals(j.vPlane(), f.vPlane()), "both decoders give the same planes, frame " + i);
      double[] d = distance(j.toRgb(), ref.frames().get(i));
      max = Math.max(max, d[0]);
      mean += d[1] / jc.size();
    }
    System.out.printf(Locale.ROOT, "jcodec (foley4j's own RGB) vs PyAV, %s: max %.0f levels, mean %.3f levels%n",
        spec, max, mean);
    assertEquals(0.0, max, spec + ": levels from PyAV (mean " + mean + ")");
  }

  /**
   * foley4j's own conversion on random planes (every Y, Cb, Cr value, super-black and super-white
   * included), stored losslessly with FFV1 and read back by PyAV: equal to the byte for BT.601 and
   * BT.709, limited and full range, even sizes.
   */
  @ParameterizedTest
  @ValueSource(strings = {"bt470bg:tv", "bt709:tv", "bt470bg:pc", "bt709:pc", "unknown:tv"})
  void ownConversionIsPyavsOnRandomPlanes(String spec) throws IOException {
    String[] p = spec.split(":");
    int w = 66;
    int h = 48;
    int cw = w / 2;
    int ch = h / 2;
    java.util.Random r = new java.util.Random(spec.hashCode());
    byte[] raw = new byte[w * h + 2 * cw * ch];
    r.nextBytes(raw);
    Path rawFile = dir.resolve("noise-" + p[0] + "-" + p[1] + ".yuv");
    Files.write(rawFile, raw);
    List<String> args = new ArrayList<>(List.of("-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", w + "x" + h,
        "-i", rawFile.toString(), "-c:v", "ffv1", "-color_range", p[1]));
    if (!p[0].equals("unknown")) {
      args.addAll(List.of("-colorspace", p[0]));
    }
    List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-nostdin", "-v", "error", "-y"));
    cmd.addAll(args);
    Path video = dir.resolve("noise-" + p[0] + "-" + p[1] + ".mkv");
    cmd.add(video.toString());
    io.foley4j.TestSupport.run(cmd.toArray(new String[0]));
    Reference ref = pyav(video);
    assertEquals(1, ref.frames().size());
    DecodedFrame f;
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(video)) {
      f = s.next();
    }
    assertEquals(p[1].equals("pc"), f.isFullRange(), "range as signalled");
    assertEquals(p[0].equals("bt709"), f.isBt709(), "matrix as signalled");
    assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOfRange(raw, 0, w * h), f.yPlane()), "lossless");
    DecodedFrame own = DecodedFrame.ofYuv420(0, 1, w, h, f.yPlane(), f.uPlane(), f.vPlane(), f.isBt709(),
        f.isFullRange());
    assertTrue(!own.hasDecoderRgb());
    double[] d = distance(own.toRgb(), ref.frames().get(0));
    assertEquals(0.0, d[0], spec + ": foley4j's own RGB against PyAV's (mean " + d[1] + ")");
    assertEquals(0.0, distance(f.toRgb(), ref.frames().get(0))[0], spec + ": swscale's RGB against PyAV's");
  }

  /**
   * HunyuanVideo-Foley's Synchformer input end to end: PyAV's rgb24 resized by torch (v2.Resize(224,
   * BICUBIC) on uint8 = interpolate bicubic antialias) and centre-cropped, against the FFmpeg frame's
   * {@code toTensor(224, CENTER_CROP, TORCH_BICUBIC)}: equal to the byte (mean 0, std 1, so each
   * value is level/255).
   */
  @ParameterizedTest
  @ValueSource(strings = {"640x360", "360x640", "97x61"})
  void hvfSyncFramesArePyavAndTorchs(String size) throws IOException {
    SystemPython.requireTorch("FOLEY_REQUIRE_TORCH", 2, 0); // uint8 antialiased bicubic
    Path video = clip("sync-" + size, size, "mp4", "-c:v", "libx264", "-pix_fmt", "yuv444p");
    Path script = dir.resolve("sync.py");
    Files.writeString(script, String.join("\n",
        "import sys, av, numpy as np, torch",
        "video, out = sys.argv[1], sys.argv[2]",
        "with av.open(video) as c, open(out, 'wb') as o:",
        "    for frame in c.decode(video=0):",
        "        a = frame.to_ndarray(format='rgb24')",
        "        t = torch.from_numpy(a).permute(2, 0, 1)[None]",
        "        h, w = a.shape[:2]",
        "        nw, nh = (224, int(224 * h / w)) if w <= h else (int(224 * w / h), 224)",
        "        r = torch.nn.functional.interpolate(t, size=(nh, nw), mode='bicubic', antialias=True)",
        "        top, left = int(round((nh - 224) / 2.0)), int(round((nw - 224) / 2.0))",
        "        o.write(r[0, :, top:top + 224, left:left + 224].contiguous().numpy().tobytes())",
        ""));
    Path out = dir.resolve("sync-" + size + ".chw");
    SystemPython.run(dir, Map.of(), 120, script.toString(), video.toString(), out.toString());
    byte[] want = Files.readAllBytes(out);
    int n = 3 * 224 * 224;
    float[] t = new float[n];
    byte[] got = new byte[n];
    int i = 0;
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(video)) {
      for (DecodedFrame f; (f = s.next()) != null; i++) {
        f.toTensor(224, io.foley4j.video.ResizeMode.CENTER_CROP, io.foley4j.video.ResizeFilter.TORCH_BICUBIC,
            new float[] {0f, 0f, 0f}, new float[] {1f, 1f, 1f}, t, 0);
        for (int k = 0; k < n; k++) {
          got[k] = (byte) Math.round(t[k] * 255f);
        }
        byte[] w = java.util.Arrays.copyOfRange(want, i * n, (i + 1) * n);
        double[] d = distance(got, w);
        assertEquals(0.0, d[0], size + " frame " + i + ": levels differ from PyAV + torch (mean " + d[1] + ")");
      }
    }
    assertEquals(want.length / n, i, "frames");
  }
}
