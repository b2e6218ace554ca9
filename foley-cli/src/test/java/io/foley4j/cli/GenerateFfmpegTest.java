package io.foley4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.TestSupport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code foley generate} with FFmpeg: any input, --decoder, --format, --mux ({@code bench decode} is tested in
 * foley-bench's DecodeBenchTest).
 */
class GenerateFfmpegTest {
  @TempDir
  Path dir;
  Path hevc;

  @BeforeEach
  void clip() {
    org.junit.jupiter.api.Assumptions.assumeTrue(TestSupport.ffmpegAvailable(), "ffmpeg not installed");
    hevc = dir.resolve("in.mkv");
    TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
        "color=c=0x101010:s=96x64:r=25:d=2,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='between(t\\,0.99\\,1.11)'",
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", hevc.toString());
  }

  private static String probe(Path f, String what) {
    return TestSupport.run("ffprobe", "-v", "error", "-show_entries", what, "-of", "csv=p=0", f.toString()).trim();
  }

  @Test
  void hevcInMkvGivesFlacAndAnMp4WithTheVideoCopied() {
    Path flac = dir.resolve("out.flac");
    Path mp4 = dir.resolve("out.mp4");
    int rc = FoleyCli.run("generate", "--video", hevc.toString(), "--prompt", "clap", "--steps", "2", "--out",
        flac.toString(), "--mux", mp4.toString(), "--bitrate", "96", "--progress", "none");
    assertEquals(0, rc);
    assertEquals("flac", probe(flac, "stream=codec_name"));
    assertEquals("2.000000", probe(flac, "format=duration"));
    String streams = probe(mp4, "stream=codec_name");
    assertTrue(streams.contains("hevc") && streams.contains("aac"), streams);
    Path m4a = dir.resolve("out.m4a");
    assertEquals(0, FoleyCli.run("generate", "--video", hevc.toString(), "--prompt", "clap", "--steps", "2", "--format",
        "m4a", "--out", m4a.toString(), "--decoder", "ffmpeg", "--progress", "none"));
    assertEquals("aac", probe(m4a, "stream=codec_name"));
  }

  @Test
  void jcodecForcedOnHevcAndBadOptionsFailWithExitTwo() {
    String err = captureErr(() -> assertEquals(2, FoleyCli.run("generate", "--video", hevc.toString(), "--prompt",
        "x", "--decoder", "jcodec", "--out", dir.resolve("a.wav").toString(), "--progress", "none")));
    assertTrue(err.contains("in.mkv"), err);
    err = captureErr(() -> assertEquals(2, FoleyCli.run("generate", "--video", hevc.toString(), "--prompt", "x",
        "--format", "ogg", "--out", dir.resolve("a.ogg").toString())));
    assertTrue(err.contains("wav, flac, m4a"), err);
    err = captureErr(() -> assertEquals(2, FoleyCli.run("generate", "--video", hevc.toString(), "--prompt", "x",
        "--mux", dir.resolve("a.avi").toString())));
    assertTrue(err.contains(".mp4, .mov or .mkv"), err);
    err = captureErr(() -> assertEquals(2, FoleyCli.run("generate", "--video", hevc.toString(), "--prompt", "x",
        "--decoder", "vlc")));
    assertTrue(err.contains("no video decoder named"), err);
  }

  private static String captureErr(Runnable r) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream old = System.err;
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setErr(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
