package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.TestSupport;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code foley bench decode} through the CLI, here because only foley-bench's class path has the
 * bench commands (it was in foley-cli's GenerateFfmpegTest, where {@code bench} answers "not in
 * this jar" with exit 2). Skips without an ffmpeg command to make the HEVC clip.
 */
class DecodeBenchTest {
  @TempDir
  Path dir;

  @Test
  void benchDecodePrintsBothSpeedsAndTheirRatio() {
    Assumptions.assumeTrue(TestSupport.ffmpegAvailable(), "ffmpeg not installed");
    Path hevc = dir.resolve("in.mkv");
    TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x101010:s=96x64:r=25:d=2",
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", hevc.toString());
    String out = BenchCli.run("bench", "decode", hevc.toString(), "--runs", "1");
    assertTrue(out.matches("(?s).*foley4j ffmpeg run 1: 50 frames .*ffmpeg CLI run 1: .*ratio \\d+\\.\\d\\d.*"), out);
  }
}
