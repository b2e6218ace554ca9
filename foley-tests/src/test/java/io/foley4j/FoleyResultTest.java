package io.foley4j;

import io.foley4j.jcodec.Mp4Outputs;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing a result: the source must still be the video the audio was made for, and is never overwritten. */
class FoleyResultTest {
  @TempDir
  Path dir;

  private static void video(Path p, double seconds, int flashColour) {
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(seconds).flash(1, 0.12, flashColour).build(), p);
  }

  private static FoleyException fails(FoleyException.Code code, org.junit.jupiter.api.function.Executable call,
      String... fragments) {
    FoleyException e = assertThrows(FoleyException.class, call);
    assertEquals(code, e.code(), e.toString());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), () -> "\"" + e.getMessage() + "\" should contain \"" + f + "\"");
    }
    return e;
  }

  @Test
  void muxingAfterTheSourceWasReplacedByALongerVideoFailsInsteadOfWritingShortAudio() throws Exception {
    Path v = dir.resolve("clip.mp4");
    video(v, 3, 0xFFFFFF);
    FoleyResult r;
    try (ModelBundle b = TestSupport.referenceBundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(b).build()) {
      r = engine.generate(FoleyRequest.builder(v).prompt("x").steps(1).build());
    }
    assertEquals(3.0, r.durationSeconds(), 1e-9);
    video(v, 20, 0xFFFFFF);
    Path mov = dir.resolve("out.mov");
    // the engine stamped the source when the job read it: the swap is seen as a changed file
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> Mp4Outputs.writeVideoWithSound(r, mov), v.toString(), "changed since",
        "run the job again");
    assertFalse(Files.exists(mov));
    // without a stamp, the duration check alone still refuses it
    FoleyResult unstamped = new FoleyResult(r.request(), r.toArray(), r.sampleRate(), r.timings());
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> Mp4Outputs.writeVideoWithSound(unstamped, mov), v.toString(), "3.000 s",
        "20.000 s", "run the job again");
    assertFalse(Files.exists(mov));
  }

  @Test
  void aStampedSourceThatChangedInAnyWayIsRefused() throws Exception {
    Path v = dir.resolve("clip.mp4");
    video(v, 2, 0xFFFFFF);
    FoleyRequest req = FoleyRequest.of(v, "x");
    float[] audio = new float[2 * 48000];
    FoleyResult r = new FoleyResult(req, audio, 48000, null, SourceStamp.of(v));
    Path mov = dir.resolve("ok.mov");
    Mp4Outputs.writeVideoWithSound(r, mov);
    assertTrue(Files.size(mov) > 2 * 48000 * 2);

    video(v, 2, 0x808080); // same length, other content
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> Mp4Outputs.writeVideoWithSound(r, dir.resolve("a.mov")), v.toString(),
        "changed since", "run the job again");

    FoleyResult touched = new FoleyResult(req, audio, 48000, null, SourceStamp.of(v));
    Files.setLastModifiedTime(v, FileTime.fromMillis(Files.getLastModifiedTime(v).toMillis() - 60_000));
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> Mp4Outputs.writeVideoWithSound(touched, dir.resolve("b.mov")), "changed since");

    FoleyResult viaAttributes = new FoleyResult(req, audio, 48000, null,
        SourceStamp.of(Files.readAttributes(v, BasicFileAttributes.class)));
    Mp4Outputs.writeVideoWithSound(viaAttributes, dir.resolve("c.mov"));
    Files.delete(v);
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> Mp4Outputs.writeVideoWithSound(viaAttributes, dir.resolve("d.mov")),
        "no longer exists");
    assertFalse(Files.exists(dir.resolve("a.mov")) || Files.exists(dir.resolve("b.mov"))
        || Files.exists(dir.resolve("d.mov")));
  }

  @Test
  void outputsThatAreTheSourceVideoAreRefusedAndTheVideoKept() throws Exception {
    Path v = dir.resolve("clip.mp4");
    video(v, 2, 0xFFFFFF);
    byte[] before = Files.readAllBytes(v);
    FoleyResult r = new FoleyResult(FoleyRequest.of(v, "x"), new float[2 * 48000], 48000, null);
    Path hard = Files.createLink(dir.resolve("hard.wav"), v);
    Path sym = Files.createSymbolicLink(dir.resolve("sym.mov"), v);
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> r.writeWav(v), "is the source video");
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> r.writeWav(hard), "is the source video");
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> Mp4Outputs.writeVideoWithSound(r, sym), "is the source video");
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> Mp4Outputs.writeVideoWithSound(r, hard), "is the source video");
    assertArrayEquals(before, Files.readAllBytes(v));
    assertTrue(Files.isSymbolicLink(sym));
  }

  @Test
  void aSymlinkedMovIsWrittenThroughAndAFifoRefused() throws Exception {
    Path v = dir.resolve("clip.mp4");
    video(v, 2, 0xFFFFFF);
    FoleyResult r = new FoleyResult(FoleyRequest.of(v, "x"), new float[2 * 48000], 48000, null);
    Path target = dir.resolve("real.mov");
    Path link = Files.createSymbolicLink(dir.resolve("link.mov"), target);
    Mp4Outputs.writeVideoWithSound(r, link);
    assertTrue(Files.isSymbolicLink(link));
    assertTrue(Files.size(target) > 2 * 48000 * 2);
    Path fifo = dir.resolve("out.fifo");
    try {
      org.junit.jupiter.api.Assumptions.assumeTrue(
          new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo failed");
    } catch (java.io.IOException e) {
      org.junit.jupiter.api.Assumptions.abort("mkfifo is not available: " + e);
    }
    fails(FoleyException.Code.INVALID_ARGUMENT, () -> Mp4Outputs.writeVideoWithSound(r, fifo), "regular file");
    assertFalse(Files.isRegularFile(fifo, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the FIFO was not replaced");
  }
}
