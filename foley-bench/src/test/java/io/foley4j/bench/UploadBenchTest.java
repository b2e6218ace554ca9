package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.TestSupport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code foley bench upload} through the CLI on a short clip: its three rows, each ratio the
 * quotient of the printed times, and typed errors for bad options. Times are printed, never bounded.
 */
class UploadBenchTest {
  private static final Pattern ROW = Pattern.compile(
      "(?m)^(POST \\S+.*?)\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)$");

  @Test
  void printsTheThreeWaysWithConsistentNumbers() {
    Assumptions.assumeTrue(TestSupport.ffmpegAvailable(), "ffmpeg not installed");
    String out = BenchCli.run("bench", "upload", "--video-seconds", "12", "--upload-seconds", "2", "--steps", "1");
    Map<String, double[]> rows = new LinkedHashMap<>();
    for (Matcher m = ROW.matcher(out); m.find(); ) {
      rows.put(m.group(1).trim(), new double[] {Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
          Double.parseDouble(m.group(4)), Double.parseDouble(m.group(5))});
    }
    assertEquals(3, rows.size(), out);
    for (double[] r : rows.values()) {
      assertTrue(r[0] > 0 && r[1] > 0 && r[2] >= r[1], out);
      // times are printed to 0.01 s, the ratio to 0.001: the quotient of the printed times within their rounding
      double tol = r[1] / r[0] * (0.005 / r[1] + 0.005 / r[0]) + 0.0005;
      assertEquals(r[1] / r[0], r[3], tol, "1st/upload is the quotient: " + out);
    }
    assertTrue(out.contains("first chunk: streamed"), out);
  }

  @Test
  void badOptionsAreTypedErrors() {
    UploadBench b = new UploadBench();
    b.steps = 0;
    b.uploadSeconds = 1;
    b.videoSeconds = 1;
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, b::call).code());
    UploadBench missing = new UploadBench();
    missing.steps = 1;
    missing.uploadSeconds = 1;
    missing.videoSeconds = 1;
    missing.video = Path.of("/nonexistent/clip.mp4");
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, missing::call).code());
  }

}
