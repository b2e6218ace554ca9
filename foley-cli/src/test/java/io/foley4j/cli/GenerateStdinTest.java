package io.foley4j.cli;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.video.SyntheticVideo;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code foley generate --video -}: the video from stdin gives the same WAV as from its file. */
class GenerateStdinTest {
  @TempDir
  Path dir;

  private CliOutput withStdin(byte[] in, String... args) {
    InputStream old = System.in;
    System.setIn(new ByteArrayInputStream(in));
    try {
      return CliOutput.of(args);
    } finally {
      System.setIn(old);
    }
  }

  @Test
  void stdinGivesTheSameWavAsTheFile() throws Exception {
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(3).flash(1, 0.12, 0xFFFFFF).build(), video);
    byte[] bytes = Files.readAllBytes(video);
    Path a = dir.resolve("a.wav");
    Path b = dir.resolve("b.wav");
    CliOutput fromFile = CliOutput.of("generate", "--video", video.toString(), "--prompt", "clink", "--steps", "2",
        "--decoder", "jcodec", "--progress", "none", "--out", a.toString());
    assertEquals(0, fromFile.rc(), fromFile.err());
    CliOutput fromStdin = withStdin(bytes, "generate", "--video", "-", "--prompt", "clink", "--steps", "2",
        "--decoder", "jcodec", "--progress", "none", "--out", b.toString());
    assertEquals(0, fromStdin.rc(), fromStdin.err());
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));

    CliOutput mux = withStdin(bytes, "generate", "--video", "-", "--prompt", "x", "--mux", dir.resolve("m.mp4")
        .toString());
    assertEquals(2, mux.rc());
    assertTrue(mux.err().contains("--mux needs the video as a file"), mux.err());

    // over the bound: a typed refusal, exit 2
    byte[] big = new byte[(1 << 20) + 1];
    System.arraycopy(bytes, 0, big, 0, bytes.length);
    CliOutput tooBig = withStdin(big, "generate", "--video", "-", "--prompt", "x", "--max-stdin-mib", "1",
        "--progress", "none", "--out", dir.resolve("c.wav").toString());
    assertEquals(2, tooBig.rc(), tooBig.err());
    assertTrue(tooBig.err().contains("pass its path") || tooBig.err().contains("file"), tooBig.err());
    assertTrue(!Files.exists(dir.resolve("c.wav")));
  }
}
