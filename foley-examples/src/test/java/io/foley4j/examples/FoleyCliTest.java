package io.foley4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.TestSupport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user runs it (in-process, exit codes and files). */
class FoleyCliTest {
  @TempDir
  Path dir;

  @Test
  void demoWritesAudioOfTheVideosLengthAndAVideoWithSound() throws Exception {
    int rc = FoleyCli.run("demo", "--out-dir", dir.toString(), "--seconds", "3");
    assertEquals(0, rc);
    Path wav = dir.resolve("demo.wav");
    Path mov = dir.resolve("demo-with-sound.mov");
    ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(48000, h.getInt(24));
    assertEquals(3 * 48000 * 2, h.getInt(40), "3 s of 16-bit mono samples");
    assertTrue(Files.size(mov) > Files.size(dir.resolve("demo-input.mp4")));
    if (TestSupport.ffmpegAvailable()) {
      String streams = TestSupport.run("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
          mov.toString());
      assertTrue(streams.contains("h264") && streams.contains("pcm_s16le"), streams);
    }
  }

  @Test
  void generateWritesTheRequestedFiles() throws Exception {
    FoleyCli.run("demo", "--out-dir", dir.toString(), "--seconds", "2");
    Path out = dir.resolve("out.wav");
    int rc = FoleyCli.run("generate", "--video", dir.resolve("demo-input.mp4").toString(), "--prompt", "metal clink",
        "--steps", "3", "--seed", "5", "--float", "--out", out.toString(), "--mux", dir.resolve("out.mov").toString());
    assertEquals(0, rc);
    ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(3, h.getShort(20), "IEEE float");
    assertEquals(2 * 48000 * 4, h.getInt(40));
    assertTrue(Files.exists(dir.resolve("out.mov")));
  }

  @Test
  void badInputGivesExitCodeTwoAndAClearMessage() {
    String err = captureErr(() -> assertEquals(2, FoleyCli.run("generate", "--video",
        dir.resolve("missing.mp4").toString(), "--prompt", "x")));
    assertTrue(err.contains("error [IO]") && err.contains("missing.mp4"), err);
  }

  @Test
  void bundleVerifyAcceptsTheReferenceAndRefusesATamperedCopy() throws Exception {
    Path b = dir.resolve("bundle");
    assertEquals(0, FoleyCli.run("bundle", "reference", "--out", b.toString()));
    assertEquals(0, FoleyCli.run("bundle", "verify", b.toString()));
    assertEquals(0, FoleyCli.run("bundle", "info", b.toString()));
    Path tok = b.resolve("tokenizer.json");
    Files.writeString(tok, Files.readString(tok).replace("\"<pad>\"", "\"<pod>\""));
    String err = captureErr(() -> assertEquals(2, FoleyCli.run("bundle", "verify", b.toString())));
    assertTrue(err.contains("INVALID_BUNDLE") && err.contains("sha256 mismatch for tokenizer.json"), err);
  }

  private static String captureErr(Runnable r) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setErr(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
