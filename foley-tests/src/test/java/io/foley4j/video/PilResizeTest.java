package io.foley4j.video;

import io.foley4j.jcodec.Ffmpeg;

import io.foley4j.jcodec.JcodecVideoSources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The PIL filters against PIL itself: real frames made by ffmpeg, decoded by foley4j, their RGB
 * ({@link DecodedFrame#toRgb}) resized by PIL in /usr/bin/python3 (squash to 512, and torchvision's
 * Resize(224) + CenterCrop(224)) and by foley4j. Skips without ffmpeg or without PIL, unless
 * FOLEY_REQUIRE_FFMPEG=1 / FOLEY_REQUIRE_PIL=1 (CI), where it fails.
 */
class PilResizeTest {
  @TempDir Path tmp;

  private static final String PYTHON = io.foley4j.SystemPython.PYTHON;

  /** Reads raw RGB, writes PIL's results, interleaved RGB, one file per case. */
  private static final String SCRIPT = String.join("\n",
      "import sys",
      "from PIL import Image",
      "src, w, h, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]",
      "im = Image.frombytes('RGB', (w, h), open(src, 'rb').read())",
      "for name, f in (('pil-bilinear', Image.BILINEAR), ('pil-bicubic', Image.BICUBIC)):",
      "    open(out + '/' + name + '-squash512.rgb', 'wb').write(im.resize((512, 512), f).tobytes())",
      "    # torchvision Resize(224) (_compute_resized_output_size) then CenterCrop(224)",
      "    short, long = (w, h) if w <= h else (h, w)",
      "    new_long = int(224 * long / short)",
      "    nw, nh = (224, new_long) if w <= h else (new_long, 224)",
      "    r = im.resize((nw, nh), f)",
      "    top = int(round((nh - 224) / 2.0))",
      "    left = int(round((nw - 224) / 2.0))",
      "    c = r.crop((left, top, left + 224, top + 224))",
      "    open(out + '/' + name + '-crop224.rgb', 'wb').write(c.tobytes())",
      "");

  private static Boolean pil;

  static synchronized void requirePil() {
    if (pil == null) {
      try {
        Process p = new ProcessBuilder(PYTHON, "-c", "import PIL").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        pil = p.waitFor() == 0;
      } catch (IOException e) {
        pil = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        pil = false;
      }
    }
    if (!pil) {
      if ("1".equals(System.getenv("FOLEY_REQUIRE_PIL"))) {
        fail(PYTHON + " cannot import PIL but FOLEY_REQUIRE_PIL=1 (apt-get install python3-pil)");
      }
      Assumptions.assumeTrue(false, PYTHON + " without PIL; skipping");
    }
  }

  private static Path clip(String source, int w, int h) {
    return Ffmpeg.media("pil-" + source + "-" + w + "x" + h + ".mp4", "-f", "lavfi", "-i",
        source + "=size=" + w + "x" + h + ":rate=25", "-frames:v", "2", "-c:v", "libx264",
        "-pix_fmt", "yuv420p", "-preset", "veryfast", "-crf", "18");
  }

  private static DecodedFrame secondFrame(Path p) {
    try (VideoSource s = JcodecVideoSources.jcodec().open(p)) {
      s.next();
      return s.next();
    }
  }

  private static void runPil(Path dir, byte[] rgb, int w, int h) throws Exception {
    Path in = dir.resolve("frame.rgb");
    Files.write(in, rgb);
    Process p = new ProcessBuilder(PYTHON, "-c", SCRIPT, in.toString(), Integer.toString(w),
        Integer.toString(h), dir.toString()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), "PIL script failed: " + log);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"testsrc2:1280x720", "mandelbrot:1920x1080", "testsrc:320x240",
      "testsrc2:480x640"})
  void matchesPilOnRealFrames(String spec) throws Exception {
    Ffmpeg.require();
    requirePil();
    String source = spec.split(":")[0];
    int w = Integer.parseInt(spec.split(":")[1].split("x")[0]);
    int h = Integer.parseInt(spec.split(":")[1].split("x")[1]);
    DecodedFrame f = secondFrame(clip(source, w, h));
    assertEquals(w, f.width());
    assertEquals(h, f.height());
    byte[] rgb = f.toRgb();
    runPil(tmp, rgb, w, h);
    List<String> report = new ArrayList<>();
    for (ResizeFilter filter : new ResizeFilter[] {ResizeFilter.PIL_BILINEAR, ResizeFilter.PIL_BICUBIC}) {
      for (ResizeMode mode : ResizeMode.values()) {
        int size = mode == ResizeMode.SQUASH ? 512 : 224;
        String name = filter.manifestName() + (mode == ResizeMode.SQUASH ? "-squash512" : "-crop224");
        byte[] want = Files.readAllBytes(tmp.resolve(name + ".rgb"));
        assertEquals(3 * size * size, want.length);
        // the whole path: DecodedFrame -> tensor (mean 0, std 1: v/255)
        float[] t = new float[3 * size * size];
        f.toTensor(size, mode, filter, new float[3], new float[] {1, 1, 1}, t, 0);
        int plane = size * size;
        double max = 0;
        double sum = 0;
        int differ = 0; // values that are not PIL's after rounding back to 8 bits
        for (int i = 0; i < plane; i++) {
          for (int c = 0; c < 3; c++) {
            double d = Math.abs(t[c * plane + i] * 255.0 - (want[3 * i + c] & 0xff));
            max = Math.max(max, d);
            sum += d;
            differ += Math.round(t[c * plane + i] * 255.0) == (want[3 * i + c] & 0xff) ? 0 : 1;
          }
        }
        double mean = sum / (3.0 * plane);
        // and the 2-tap path on the same frame, for scale
        float[] old = new float[3 * size * size];
        f.toTensor(size, mode, ResizeFilter.BILINEAR_2TAP, new float[3], new float[] {1, 1, 1}, old, 0);
        double oldMax = 0;
        double oldSum = 0;
        for (int i = 0; i < plane; i++) {
          for (int c = 0; c < 3; c++) {
            double d = Math.abs(old[c * plane + i] * 255.0 - (want[3 * i + c] & 0xff));
            oldMax = Math.max(oldMax, d);
            oldSum += d;
          }
        }
        // and a float resample with one final round (what torch's antialiased resize of a uint8
        // tensor does, HVF's Synchformer path), for scale: PIL rounds between the passes too
        byte[] fl = floatResample(rgb, w, h, size, mode == ResizeMode.CENTER_CROP,
            filter == ResizeFilter.PIL_BICUBIC);
        double flMax = 0;
        double flSum = 0;
        for (int i = 0; i < plane; i++) {
          for (int c = 0; c < 3; c++) {
            double d = Math.abs((fl[c * plane + i] & 0xff) - (want[3 * i + c] & 0xff));
            flMax = Math.max(flMax, d);
            flSum += d;
          }
        }
        report.add(String.format("%s %-26s max %.3f/255 mean %.5f/255, %d of %d values differ"
            + "   (bilinear-2tap: max %.1f mean %.3f; float, one rounding: max %.0f mean %.4f)",
            spec, name, max, mean, differ, 3 * plane, oldMax, oldSum / (3.0 * plane), flMax, flSum / (3.0 * plane)));
        assertTrue(max <= 2.0 + 1e-3, spec + " " + name + ": max |diff| " + max + "/255 vs PIL");
      }
    }
    System.out.println("[PilResizeTest] vs PIL " + System.getProperty("line.separator")
        + String.join(System.getProperty("line.separator"), report));
  }

  /** The same taps in double without the 8-bit intermediate; clamp and round half-even at the end. */
  private static byte[] floatResample(byte[] rgb, int w, int h, int size, boolean crop, boolean bicubic) {
    int rw = size;
    int rh = size;
    int left = 0;
    int top = 0;
    if (crop) {
      int[] r = PilResample.shortSideSize(w, h, size);
      rw = r[0];
      rh = r[1];
      left = PilResample.cropOffset(rw, size);
      top = PilResample.cropOffset(rh, size);
    }
    PilResample.Coeffs hc = PilResample.coeffs(w, rw, left, size, bicubic);
    PilResample.Coeffs vc = PilResample.coeffs(h, rh, top, size, bicubic);
    double[] tmp = new double[3 * h * size];
    for (int y = 0; y < h; y++) {
      for (int i = 0; i < size; i++) {
        for (int c = 0; c < 3; c++) {
          double s = 0;
          if (hc.identity) {
            s = rgb[3 * (y * w + left + i) + c] & 0xff;
          } else {
            for (int x = 0; x < hc.count[i]; x++) {
              s += hc.weights[i * hc.ksize + x] * (rgb[3 * (y * w + hc.min[i] + x) + c] & 0xff);
            }
          }
          tmp[(c * h + y) * size + i] = s;
        }
      }
    }
    byte[] out = new byte[3 * size * size];
    for (int j = 0; j < size; j++) {
      for (int i = 0; i < size; i++) {
        for (int c = 0; c < 3; c++) {
          double s = 0;
          if (vc.identity) {
            s = tmp[(c * h + top + j) * size + i];
          } else {
            for (int y = 0; y < vc.count[j]; y++) {
              s += vc.weights[j * vc.ksize + y] * tmp[(c * h + vc.min[j] + y) * size + i];
            }
          }
          out[c * size * size + j * size + i] = (byte) Math.rint(Math.max(0, Math.min(255, s)));
        }
      }
    }
    return out;
  }
}
