package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.foley4j.FoleyException;
import io.foley4j.SystemPython;
import io.foley4j.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code foley bench frames} through the CLI on a small clip the ffmpeg CLI makes: the output's
 * rows, that its numbers agree with each other (stages sum to the total, ratios are the quotients
 * of the printed values, frame counts match between foley4j and HVF's Python), and typed errors
 * for bad input. Times are only printed, never compared with a bound. The Python column is skipped
 * only when {@code FOLEY_PYTHON} lacks PyAV or torch and FOLEY_REQUIRE_TORCH is not 1.
 */
class FramesBenchTest {
  @TempDir
  Path dir;

  private static final Pattern ROW = Pattern.compile("(?m)^  (\\S.*?)\\s+cpu\\s+([0-9.]+)\\s+wall\\s+([0-9.]+)");
  private static final Pattern STAGE = Pattern.compile("(?m)^    (\\S.*?)\\s+cpu\\s+(-?[0-9.]+)$");

  private static boolean pythonHasTorch() throws Exception {
    Process p = new ProcessBuilder(SystemPython.PYTHON, "-c", "import av, torch, numpy, PIL").redirectErrorStream(true)
        .start();
    p.getInputStream().readAllBytes();
    return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  @Test
  void printsTheThreeColumnsWithConsistentNumbers() throws Exception {
    Assumptions.assumeTrue(TestSupport.ffmpegAvailable(), "ffmpeg not installed");
    boolean torch = pythonHasTorch();
    if (!torch && "1".equals(System.getenv("FOLEY_REQUIRE_TORCH"))) {
      fail(SystemPython.PYTHON + " lacks av or torch but FOLEY_REQUIRE_TORCH=1");
    }
    Path clip = dir.resolve("clip.mp4");
    TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=192x108:r=25:d=2",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", clip.toString());
    String out = BenchCli.run("bench", "frames", clip.toString(), "--runs", "1", "--python", SystemPython.PYTHON);

    Map<String, double[]> rows = new LinkedHashMap<>();
    for (Matcher m = ROW.matcher(out); m.find(); ) {
      rows.put(m.group(1), new double[] {Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3))});
    }
    double[] f4j = rows.get("foley4j frame preparation");
    double[] dec = rows.get("foley4j decode alone");
    double[] cli = rows.get("ffmpeg CLI decode only");
    assertTrue(f4j != null && dec != null && cli != null, out);
    for (double[] r : rows.values()) {
      // a 2 s 192x108 clip: a column's CPU time may print as 0.000 (CI saw it for foley4j's decode alone)
      assertTrue(r[0] >= 0 && r[1] > 0, out);
    }
    assertTrue(f4j[0] > 0, out);

    // foley4j's stages: the first block of stage lines, right after its row; they sum to its total
    String afterF4j = out.substring(out.indexOf("  foley4j frame preparation"), out.indexOf("  foley4j decode alone"));
    double sum = 0;
    int stages = 0;
    for (Matcher m = STAGE.matcher(afterF4j); m.find(); ) {
      sum += Double.parseDouble(m.group(2));
      stages++;
    }
    assertEquals(5, stages, afterF4j); // the rest, rgb, the two resizes, normalise
    assertEquals(f4j[0], sum, 0.004, afterF4j);
    assertTrue(afterF4j.contains("resize pil-bilinear (17 frames)") && afterF4j.contains("resize torch-bicubic ("),
        afterF4j);
    Matcher rgb = Pattern.compile("rgb \\(swscale, (\\d+) frames\\)").matcher(afterF4j);
    Matcher tb = Pattern.compile("resize torch-bicubic \\((\\d+) frames\\)").matcher(afterF4j);
    assertTrue(rgb.find() && tb.find(), afterF4j);
    // one RGB per distinct resized frame: a visual frame that the sync stream resizes right after
    // (here every one: at 25 fps the sync stream samples every frame) is converted once
    int rgbs = Integer.parseInt(rgb.group(1));
    int syncResized = Integer.parseInt(tb.group(1));
    assertTrue(rgbs >= syncResized && rgbs < 17 + syncResized, afterF4j);
    assertTrue(out.contains("foley4j decode alone                     cpu") && out.contains("(50 frames)"), out);

    Matcher ratios = Pattern.compile("ratios \\(cpu\\): HVF / foley4j = (\\S+) \\(goal >= 5\\); foley4j / decode-only"
        + " = (\\S+) \\(goal <= 1.5\\)").matcher(out);
    assertTrue(ratios.find(), out);
    if (cli[0] > 0) {
      assertEquals(f4j[0] / cli[0], Double.parseDouble(ratios.group(2)), 0.0051, out);
    } else {
      assertEquals("n/a", ratios.group(2), "a column too short to time gives no ratio: " + out);
    }
    double[] hvf = rows.get("HVF Python preparation");
    if (torch) {
      assertTrue(hvf != null, out);
      assertEquals(hvf[0] / f4j[0], Double.parseDouble(ratios.group(1)), 0.0051, out);
      // HVF's frame counts: 16 at 8 fps, 49 or 50 at 25 fps (the accumulated grid), 512 and 224 squares
      assertTrue(out.contains("visual [1,16,3,512,512], sync [1,"), out);
      assertTrue(out.matches("(?s).*sync \\[1,(49|50),3,224,224\\].*"), out);
    } else {
      assertEquals("n/a", ratios.group(1), out);
      assertTrue(out.contains("HVF Python preparation                   skipped: "), out);
    }
  }


  private FramesBench bench(Path file) {
    FramesBench b = new FramesBench();
    b.file = file;
    b.threads = 1;
    b.runs = 1;
    b.decoder = "ffmpeg";
    b.encoderBatch = new int[] {8, 2};
    return b;
  }

  @Test
  void badInputIsATypedError() throws Exception {
    FoleyException missing = assertThrows(FoleyException.class, () -> bench(dir.resolve("none.mp4")).call());
    assertTrue(missing.code() == FoleyException.Code.IO || missing.code() == FoleyException.Code.INVALID_ARGUMENT,
        missing.toString());

    Path junk = Files.write(dir.resolve("junk.mp4"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    FramesBench zeroRuns = bench(junk);
    zeroRuns.runs = 0;
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, zeroRuns::call).code());

    FramesBench noManifest = bench(junk);
    noManifest.bundle = dir;
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, noManifest::call).code());

    // not a video: the decoder's own typed error
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, assertThrows(FoleyException.class, () -> bench(junk).call()).code());
  }
}
