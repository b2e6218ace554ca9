package io.foley4j.video;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.SystemPython;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ResizeFilter#TORCH_BICUBIC} against torch itself: {@code interpolate(mode="bicubic",
 * antialias=True)} on uint8 tensors (what torchvision's {@code v2.Resize(..., BICUBIC)} runs on a
 * uint8 image on CPU; MMAudio's CLIP frames squashed to 384² among the cases), then HunyuanVideo-Foley's
 * (and MMAudio's) Synchformer geometry, Resize(224) of the short side
 * and CenterCrop(224) as torchvision computes them. Needs torch in {@code FOLEY_PYTHON}: skips
 * without it, fails without it when FOLEY_REQUIRE_TORCH=1 (CI).
 */
class TorchResizeTest {
  @TempDir
  static Path dir;

  /** Reads cases (src.rgb w h ow oh out.rgb per line), writes torch's uint8 results. */
  private static final String RESIZE = String.join("\n",
      "import sys, numpy as np, torch",
      "torch.set_num_threads(1)",
      "for line in open(sys.argv[1]):",
      "    src, w, h, ow, oh, out = line.split()",
      "    w, h, ow, oh = int(w), int(h), int(ow), int(oh)",
      "    a = np.frombuffer(open(src, 'rb').read(), dtype=np.uint8).reshape(h, w, 3)",
      "    t = torch.from_numpy(a.copy()).permute(2, 0, 1)[None]  # channels-last strides, as HVF's permute",
      "    r = torch.nn.functional.interpolate(t, size=(oh, ow), mode='bicubic', antialias=True)",
      "    assert r.dtype == torch.uint8",
      "    open(out, 'wb').write(r[0].permute(1, 2, 0).contiguous().numpy().tobytes())",
      "");

  /** HVF's Synchformer transform up to uint8: v2.Resize(224, BICUBIC) as its functional computes the size, CenterCrop. */
  private static final String SYNC = String.join("\n",
      "import sys, numpy as np, torch",
      "src, w, h, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]",
      "a = np.frombuffer(open(src, 'rb').read(), dtype=np.uint8).reshape(h, w, 3)",
      "t = torch.from_numpy(a.copy()).permute(2, 0, 1)[None]",
      "short, long = (w, h) if w <= h else (h, w)",
      "new_short, new_long = 224, int(224 * long / short)",
      "nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)",
      "r = torch.nn.functional.interpolate(t, size=(nh, nw), mode='bicubic', antialias=True)",
      "top, left = int(round((nh - 224) / 2.0)), int(round((nw - 224) / 2.0))",
      "c = r[0, :, top:top + 224, left:left + 224]",
      "open(out, 'wb').write(c.permute(1, 2, 0).contiguous().numpy().tobytes())",
      "");

  @BeforeAll
  static void need() throws IOException {
    SystemPython.requireTorch("FOLEY_REQUIRE_TORCH", 2, 0, "numpy"); // uint8 antialiased bicubic
    Files.writeString(dir.resolve("resize.py"), RESIZE);
    Files.writeString(dir.resolve("sync.py"), SYNC);
  }

  /** Noise, or smooth gradients with a few hard edges (what resampling rounds most often). */
  private static byte[] picture(int w, int h, long seed, boolean noise) {
    Random r = new Random(seed);
    byte[] p = new byte[3 * w * h];
    if (noise) {
      r.nextBytes(p);
      return p;
    }
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int o = 3 * (y * w + x);
        boolean edge = ((x / 7) + (y / 5)) % 3 == 0;
        p[o] = (byte) (edge ? 255 : (x * 255 / Math.max(1, w - 1)));
        p[o + 1] = (byte) (edge ? 0 : (y * 255 / Math.max(1, h - 1)));
        p[o + 2] = (byte) ((x * 3 + y * 5) & 0xff);
      }
    }
    return p;
  }

  private static int[] compare(byte[] got, byte[] want) {
    assertEquals(want.length, got.length);
    int differing = 0;
    int worst = 0;
    for (int i = 0; i < got.length; i++) {
      int d = Math.abs((got[i] & 0xff) - (want[i] & 0xff));
      if (d != 0) {
        differing++;
        worst = Math.max(worst, d);
      }
    }
    return new int[] {differing, worst};
  }

  /** Planar R, G, B to interleaved. */
  private static byte[] interleave(byte[] planar, int w, int h) {
    byte[] out = new byte[planar.length];
    int n = w * h;
    for (int i = 0; i < n; i++) {
      out[3 * i] = planar[i];
      out[3 * i + 1] = planar[n + i];
      out[3 * i + 2] = planar[2 * n + i];
    }
    return out;
  }

  @Test
  void resizesAsTorchDoesByteForByte() throws IOException {
    int[][] cases = { // w, h, ow, oh: HVF's shrinks of common sizes, odd sizes, enlargements, one axis only
        {640, 360, 398, 224}, {1280, 720, 398, 224}, {1920, 1080, 398, 224}, {720, 1280, 224, 398},
        {97, 61, 355, 224}, {131, 97, 302, 224}, {300, 225, 298, 224}, {224, 300, 224, 300},
        {480, 640, 224, 298}, {853, 480, 398, 224}, {50, 40, 17, 13}, {33, 900, 8, 224}, {512, 512, 224, 224},
        {320, 240, 320, 224}, {320, 240, 224, 240},
        // MMAudio's CLIP frames: v2.Resize((384, 384), BICUBIC), squashed, shrinking or enlarging each axis
        {1920, 1080, 384, 384}, {640, 360, 384, 384}, {360, 640, 384, 384}, {97, 61, 384, 384}};
    List<byte[]> sources = new ArrayList<>();
    StringBuilder list = new StringBuilder();
    for (int i = 0; i < cases.length; i++) {
      int[] c = cases[i];
      for (int k = 0; k < 2; k++) {
        byte[] p = picture(c[0], c[1], 31L * i + k, k == 0);
        sources.add(p);
        Path src = dir.resolve("src-" + i + "-" + k + ".rgb");
        Files.write(src, p);
        list.append(String.format(Locale.ROOT, "%s %d %d %d %d %s%n", src, c[0], c[1], c[2], c[3],
            dir.resolve("torch-" + i + "-" + k + ".rgb")));
      }
    }
    Path listFile = dir.resolve("cases.txt");
    Files.writeString(listFile, list);
    SystemPython.run(dir, Map.of(), 300, "resize.py", listFile.toString());
    long differing = 0;
    for (int i = 0; i < cases.length; i++) {
      int[] c = cases[i];
      for (int k = 0; k < 2; k++) {
        byte[] want = Files.readAllBytes(dir.resolve("torch-" + i + "-" + k + ".rgb"));
        byte[] got = interleave(PilResample.resize(sources.get(2 * i + k), c[0], c[1], c[2], c[3],
            ResizeFilter.TORCH_BICUBIC), c[2], c[3]);
        int[] d = compare(got, want);
        if (d[0] != 0) {
          System.out.printf(Locale.ROOT, "%dx%d -> %dx%d (%s): %d bytes differ from torch, max %d%n", c[0], c[1],
              c[2], c[3], k == 0 ? "noise" : "gradients", d[0], d[1]);
        }
        differing += d[0];
      }
    }
    assertEquals(0, differing, "bytes that differ from torch's uint8 antialiased bicubic");
  }

  @Test
  void torchsFixedPointIsNotPils() {
    // the two filters share their taps but not their fixed point: on noise some bytes must differ,
    // by at most 1 (else the test above would not tell torch's rounding from PIL's)
    byte[] p = picture(640, 360, 7, true);
    byte[] t = PilResample.resize(p, 640, 360, 398, 224, ResizeFilter.TORCH_BICUBIC);
    byte[] q = PilResample.resize(p, 640, 360, 398, 224, ResizeFilter.PIL_BICUBIC);
    int[] d = compare(t, q);
    assertTrue(d[0] > 0, "torch's and PIL's bicubic agree everywhere on noise");
    assertTrue(d[1] <= 1, "torch's and PIL's bicubic differ by " + d[1]);
  }

  @Test
  void synchformerGeometryIsTorchvisionsResizeAndCenterCrop() throws IOException {
    int[][] sizes = {{640, 360}, {360, 640}, {97, 61}, {300, 225}, {1280, 720}, {225, 224}};
    float[] zero = {0f, 0f, 0f};
    float[] one = {1f, 1f, 1f};
    for (int[] s : sizes) {
      int w = s[0];
      int h = s[1];
      int cw = (w + 1) / 2;
      int ch = (h + 1) / 2;
      Random r = new Random(w * 31L + h);
      byte[] y = new byte[w * h];
      byte[] u = new byte[cw * ch];
      byte[] v = new byte[cw * ch];
      r.nextBytes(y);
      r.nextBytes(u);
      r.nextBytes(v);
      DecodedFrame f = DecodedFrame.ofYuv420(0, 1, w, h, y, u, v, false, false);
      Path src = dir.resolve("frame-" + w + "x" + h + ".rgb");
      Path out = dir.resolve("sync-" + w + "x" + h + ".rgb");
      Files.write(src, f.toRgb());
      SystemPython.run(dir, Map.of(), 120, "sync.py", src.toString(), String.valueOf(w), String.valueOf(h),
          out.toString());
      float[] t = new float[3 * 224 * 224];
      f.toTensor(224, ResizeMode.CENTER_CROP, ResizeFilter.TORCH_BICUBIC, zero, one, t, 0);
      byte[] planar = new byte[t.length];
      for (int i = 0; i < t.length; i++) {
        planar[i] = (byte) Math.round(t[i] * 255f);
      }
      int[] d = compare(interleave(planar, 224, 224), Files.readAllBytes(out));
      assertEquals(0, d[0], w + "x" + h + ": bytes that differ from Resize(224) + CenterCrop(224), max " + d[1]);
    }
  }
}
