package io.foley4j.cli;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
  void generateVariantsWritesNumberedFilesEachTheSameAsItsSeedAlone() throws Exception {
    FoleyCli.run("demo", "--out-dir", dir.toString(), "--seconds", "2");
    Path input = dir.resolve("demo-input.mp4");
    PrintStream oldOut = System.out;
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
    Result r;
    try {
      r = cli("generate", "--video", input.toString(), "--prompt", "metal clink", "--steps", "3", "--seed", "5",
          "--variants", "3", "--out", dir.resolve("v.wav").toString(), "--mux", dir.resolve("v.mov").toString(),
          "--progress", "none");
    } finally {
      System.setOut(oldOut);
    }
    assertEquals(0, r.rc, r.err);
    String out = stdout.toString(StandardCharsets.UTF_8);
    assertFalse(Files.exists(dir.resolve("v.wav")), "no unnumbered file");
    for (int i = 1; i <= 3; i++) {
      Path wav = dir.resolve("v-" + i + ".wav");
      assertTrue(out.contains("wrote " + wav + ":") && out.contains("seed " + (4 + i)), out);
      assertTrue(Files.exists(dir.resolve("v-" + i + ".mov")), "variant " + i + "'s video");
      ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(2 * 48000 * 2, h.getInt(40), "2 s of 16-bit samples, exactly");
    }
    Path alone = dir.resolve("alone.wav");
    assertEquals(0, FoleyCli.run("generate", "--video", input.toString(), "--prompt", "metal clink", "--steps", "3",
        "--seed", "6", "--out", alone.toString(), "--progress", "none"));
    assertArrayEquals(Files.readAllBytes(alone), Files.readAllBytes(dir.resolve("v-2.wav")),
        "variant 2 is seed 6 alone");
    assertFalse(java.util.Arrays.equals(Files.readAllBytes(dir.resolve("v-1.wav")),
        Files.readAllBytes(dir.resolve("v-2.wav"))), "the variants differ");

    r = cli("generate", "--video", input.toString(), "--prompt", "x", "--variants", "9");
    assertEquals(2, r.rc, r.err);
    assertOneLine(r.err, "--variants must be between 1 and 8, was 9");
    r = cli("generate", "--video", input.toString(), "--prompt", "x", "--variants", "2", "--out", "-");
    assertEquals(2, r.rc, r.err);
    assertOneLine(r.err, "--out - writes one WAV");
  }

  @Test
  void badInputGivesExitCodeTwoAndOneLineNamingIt() throws Exception {
    Result r = cli("generate", "--video", dir.resolve("missing.mp4").toString(), "--prompt", "x");
    assertEquals(2, r.rc, r.err);
    assertOneLine(r.err, "missing.mp4");
    Path junk = dir.resolve("junk.mp4");
    Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    r = cli("generate", "--video", junk.toString(), "--prompt", "x", "--out", dir.resolve("j.wav").toString());
    assertEquals(2, r.rc, r.err);
    assertOneLine(r.err, "junk.mp4");
  }

  @Test
  void invalidRequestOptionsGiveExitCodeTwoAndNoStackTrace() {
    Result r = cli("generate", "--video", video().toString(), "--prompt", "x", "--steps", "0");
    assertEquals(2, r.rc, r.err);
    assertOneLine(r.err, "steps must be between 1 and 1000, was 0");
    r = cli("generate", "--video", video().toString(), "--prompt", "x", "--cfg", "-2");
    assertEquals(2, r.rc, r.err);
    assertOneLine(r.err, "cfgScale");
    r = cli("generate", "--video", video().toString(), "--prompt", "x", "--out", dir.toString());
    assertEquals(2, r.rc, r.err);
    assertOneLine(r.err, "is a directory");
  }

  @Test
  void failuresThatAreNotTheUsersGiveExitCodeOne() throws Exception {
    Path notADir = dir.resolve("file.txt");
    Files.writeString(notADir, "x");
    Result r = cli("generate", "--video", video().toString(), "--prompt", "x", "--steps", "1", "--out",
        notADir.resolve("out.wav").toString());
    assertEquals(1, r.rc, r.err);
    assertOneLine(r.err, "out.wav");
  }

  @Test
  void anOutputThatIsTheSourceVideoIsRefusedAndTheVideoKept() throws Exception {
    Path v = dir.resolve("src.mp4");
    Files.copy(video(), v);
    byte[] before = Files.readAllBytes(v);
    Path sym = Files.createSymbolicLink(dir.resolve("sym.wav"), v);
    Path hard = Files.createLink(dir.resolve("hard.wav"), v);
    for (String[] out : new String[][] {{"--out", v.toString()}, {"--out", dir.resolve(".").resolve("src.mp4").toString()},
        {"--out", sym.toString()}, {"--out", hard.toString()}, {"--mux", v.toString()}, {"--mux", hard.toString()}}) {
      String[] args = out[0].equals("--out")
          ? new String[] {"generate", "--video", v.toString(), "--prompt", "x", "--steps", "1", out[0], out[1]}
          : new String[] {"generate", "--video", v.toString(), "--prompt", "x", "--steps", "1", "--out",
              dir.resolve("ok.wav").toString(), out[0], out[1]};
      Result r = cli(args);
      assertEquals(2, r.rc, String.join(" ", out) + ": " + r.err);
      assertOneLine(r.err, "is the source video");
      assertArrayEquals(before, Files.readAllBytes(v), String.join(" ", out));
    }
    assertTrue(Files.isSymbolicLink(sym));
  }

  @Test
  void aSymlinkOutputIsWrittenThroughAndStaysALink() throws Exception {
    Path target = dir.resolve("real.wav");
    Files.writeString(target, "old");
    Path link = Files.createSymbolicLink(dir.resolve("link.wav"), target);
    Result r = cli("generate", "--video", video().toString(), "--prompt", "x", "--steps", "1", "--out", link.toString());
    assertEquals(0, r.rc, r.err);
    assertTrue(Files.isSymbolicLink(link), "still a link");
    assertWav(Files.readAllBytes(target), 2 * 48000 * 2, 2);
  }

  @Test
  void aFifoOutputIsStreamedIntoNotReplaced() throws Exception {
    Path fifo = dir.resolve("audio.fifo");
    Process mk;
    try {
      mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
    } catch (java.io.IOException e) {
      org.junit.jupiter.api.Assumptions.abort("mkfifo is not available: " + e);
      return;
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor() == 0, "mkfifo failed");
    java.util.concurrent.CompletableFuture<byte[]> read = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try (java.io.InputStream in = Files.newInputStream(fifo)) {
        return in.readAllBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    Result r = cli("generate", "--video", video().toString(), "--prompt", "x", "--steps", "1", "--out", fifo.toString());
    assertEquals(0, r.rc, r.err);
    assertWav(read.get(60, java.util.concurrent.TimeUnit.SECONDS), 2 * 48000 * 2, 2);
    assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo, java.nio.file.LinkOption.NOFOLLOW_LINKS), "still a FIFO");
    try (var s = Files.list(dir)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "no temporary file");
    }
  }

  @Test
  void outDashWritesTheWavToStdoutAndNothingElse() {
    PrintStream oldOut = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true));
    Result r;
    try {
      r = cli("generate", "--video", video().toString(), "--prompt", "x", "--steps", "1", "--out", "-");
    } finally {
      System.setOut(oldOut);
    }
    assertEquals(0, r.rc, r.err);
    assertWav(bytes.toByteArray(), 2 * 48000 * 2, 2);
    assertTrue(r.err.contains("wrote - ") || r.err.contains("wrote stdout"), r.err);
  }

  @Test
  void progressWithoutATerminalIsOneLinePerSegmentAndNoCarriageReturns() throws Exception {
    Path v = dir.resolve("long.mp4");
    double seconds = 9;
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(seconds).flash(1, 0.1, 0xFFFFFF).build(), v);
    int segments;
    try (ModelBundle b = TestSupport.referenceBundle()) {
      segments = b.manifest().segment().count(Math.round(seconds * b.manifest().audio().sampleRate()));
    }
    assertTrue(segments >= 2, "the test needs several segments, got " + segments);
    Result r = cli("generate", "--video", v.toString(), "--prompt", "x", "--steps", "2", "--out",
        dir.resolve("p.wav").toString());
    assertEquals(0, r.rc, r.err);
    assertFalse(r.err.contains("\r"), r.err);
    List<String> lines = r.err.lines().filter(l -> l.startsWith("segment ")).toList();
    assertEquals(segments, lines.size(), r.err);
    for (int k = 0; k < segments; k++) {
      assertTrue(lines.get(k).startsWith("segment " + (k + 1) + "/" + segments + " done"), lines.get(k));
    }
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
    assertOneLine(err, "sha256 mismatch for tokenizer.json");
  }

  @Test
  void aReferenceBundleWithExternalDataVerifies() throws Exception {
    Path b = dir.resolve("bundle-v2");
    assertEquals(0, FoleyCli.run("bundle", "reference", "--out", b.toString(), "--external-data"));
    assertTrue(Files.size(b.resolve("denoiser.onnx.data")) > 0, "the denoiser's weights are external");
    assertTrue(Files.readString(b.resolve("foley-bundle.json")).replace(" ", "").contains("\"formatVersion\":2"));
    assertEquals(0, FoleyCli.run("bundle", "verify", b.toString()), "deep verify loads it");
    Files.write(b.resolve("denoiser.onnx.data"), new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
    String err = captureErr(() -> assertEquals(2, FoleyCli.run("bundle", "verify", b.toString())));
    assertOneLine(err, "denoiser.onnx.data");
  }

  @Test
  void anFp16ReferenceBundleVerifies() throws Exception {
    Path b = dir.resolve("bundle-fp16");
    assertEquals(0, FoleyCli.run("bundle", "reference", "--out", b.toString(), "--fp16"));
    String manifest = Files.readString(b.resolve("foley-bundle.json")).replace(" ", "");
    assertTrue(manifest.contains("\"formatVersion\":2") && manifest.contains("\"dtype\":\"float16\""), manifest);
    assertEquals(0, FoleyCli.run("bundle", "verify", b.toString()), "deep verify loads it and checks the types");
    String err = captureErr(() -> assertEquals(2, FoleyCli.run("bundle", "reference", "--out",
        dir.resolve("both").toString(), "--fp16", "--bf16")));
    assertOneLine(err, "--fp16 and --bf16 exclude each other");
  }

  @Test
  void benchWithoutFoleyBenchSaysWhereItIs() {
    Result r = cli("bench", "soak", "--requests", "8");
    assertEquals(2, r.rc(), r.err());
    assertOneLine(r.err(), "foley-bench/target/foley-bench.jar bench soak --requests 8");
  }

  private Path video() {
    Path v = dir.resolve("two-seconds.mp4");
    if (!Files.exists(v)) {
      SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.1, 0xFFFFFF).build(), v);
    }
    return v;
  }

  private record Result(int rc, String err) {}

  private static Result cli(String... args) {
    int[] rc = new int[1];
    String err = captureErr(() -> rc[0] = FoleyCli.run(args));
    return new Result(rc[0], err);
  }

  /** stderr is exactly one line "foley: ..." containing {@code fragment}, with no stack trace. */
  private static void assertOneLine(String err, String fragment) {
    List<String> lines = err.lines().filter(l -> !l.isBlank() && !l.startsWith("segment ")).toList();
    assertEquals(1, lines.size(), err);
    assertTrue(lines.get(0).startsWith("foley: ") && lines.get(0).contains(fragment), err);
  }

  private static void assertWav(byte[] wav, int dataBytes, int bytesPerSample) {
    ByteBuffer h = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x46464952, h.getInt(0), "RIFF");
    assertEquals(36 + dataBytes, h.getInt(4));
    assertEquals(8 * bytesPerSample, h.getShort(34));
    assertEquals(dataBytes, h.getInt(40));
    assertEquals(44 + dataBytes, wav.length);
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
