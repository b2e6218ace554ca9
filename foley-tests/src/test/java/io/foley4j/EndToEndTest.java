package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The whole path on the built-in reference model: video + prompt in, synchronized audio out. */
class EndToEndTest {
  static ModelBundle bundle;
  static FoleyEngine engine;

  @TempDir
  static Path dir;

  @BeforeAll
  static void start() {
    bundle = TestSupport.referenceBundle();
    engine = FoleyEngine.builder().bundle(bundle).name("e2e").build();
  }

  @AfterAll
  static void stop() {
    engine.close();
    bundle.close();
  }

  /** Flashes start on frame boundaries; returns the first displayed flash frame's time for each. */
  private static double[] flashFrames(double fps, double... approxSeconds) {
    double[] t = new double[approxSeconds.length];
    for (int i = 0; i < t.length; i++) {
      t[i] = Math.ceil(approxSeconds[i] * fps - 1e-9) / fps;
    }
    return t;
  }

  @ParameterizedTest(name = "{0}/{1} fps")
  @CsvSource({"24,1", "25,1", "30,1", "30000,1001"})
  void audioOnsetsMatchFlashesWithin40ms(int num, int den) {
    double fps = num / (double) den;
    double[] flashes = flashFrames(fps, 1.0, 2.3, 3.65, 5.1);
    SyntheticVideo.Builder vb = SyntheticVideo.builder().size(96, 64).fps(num, den).durationSeconds(6.5)
        .background(0x101010);
    for (double f : flashes) {
      vb.flash(f, 3 / fps, 0xFFFFFF); // three frames: an 8 fps stream could miss it, the 25 fps one cannot
    }
    Path video = dir.resolve("flash-" + num + "-" + den + ".mp4");
    SyntheticMp4.write(vb.build(), video);
    FoleyResult r = engine.generate(FoleyRequest.of(video, "door knock"));
    float[] x = r.toArray();
    List<Double> onsets = AudioAnalysis.onsets(x, r.sampleRate(), 0.02, 0.3);
    assertEquals(flashes.length, onsets.size(), "one onset per flash, found " + onsets);
    for (int i = 0; i < flashes.length; i++) {
      double err = onsets.get(i) - flashes[i];
      assertTrue(Math.abs(err) <= 0.040, String.format("flash at %.3f s, onset at %.3f s (%.1f ms off) at %s fps",
          flashes[i], onsets.get(i), err * 1000, fps));
    }
    assertTrue(AudioAnalysis.maxAbs(x, 0, (int) (0.9 * r.sampleRate())) < 1e-3, "silence before the first flash");
  }

  @Test
  void flashInsideASegmentOverlapIsHeardOnce() {
    // segments are [0, 8) and [7, 15): 7.4 s lies in the crossfade
    double[] flashes = flashFrames(25, 2.0, 7.4, 10.0);
    SyntheticVideo.Builder vb = SyntheticVideo.builder().size(96, 64).fps(25, 1).durationSeconds(12).background(0);
    for (double f : flashes) {
      vb.flash(f, 0.12, 0xFFFFFF);
    }
    Path video = dir.resolve("overlap.mp4");
    SyntheticMp4.write(vb.build(), video);
    FoleyResult r = engine.generate(FoleyRequest.builder(video).prompt("metal clink").steps(20).build());
    List<Double> onsets = AudioAnalysis.onsets(r.toArray(), r.sampleRate(), 0.02, 0.3);
    assertEquals(flashes.length, onsets.size(), "onsets " + onsets);
    for (int i = 0; i < flashes.length; i++) {
      assertEquals(flashes[i], onsets.get(i), 0.040);
    }
  }

  @ParameterizedTest(name = "{0} s at {1}/{2} fps")
  @CsvSource({"3.0,25,1", "8.0,25,1", "8.5,30,1", "61.0,25,1", "3.3366666666666,30000,1001"})
  void outputLengthIsTheContainerDurationExactly(double seconds, int num, int den) {
    Path video = dir.resolve("len-" + seconds + "-" + num + ".mp4");
    SyntheticVideo sv = SyntheticVideo.builder().size(64, 48).fps(num, den).durationSeconds(seconds).build();
    SyntheticMp4.write(sv, video);
    List<AudioChunk> chunks = new ArrayList<>();
    FoleyResult r = engine.submit(FoleyRequest.builder(video).prompt("rain").steps(4).build(), new FoleyListener() {
      @Override
      public void onChunk(AudioChunk c) {
        chunks.add(c);
      }
    }).await();
    // frames × den / num seconds, in samples
    long expected = Math.round(sv.frameCount() * (double) den / num * 48000);
    assertEquals(expected, r.sampleCount(), 1.0, "samples for " + sv.frameCount() + " frames");
    long next = 0;
    for (int i = 0; i < chunks.size(); i++) {
      assertEquals(i, chunks.get(i).index());
      assertEquals(next, chunks.get(i).sampleOffset());
      assertEquals(i == chunks.size() - 1, chunks.get(i).isLast());
      next += chunks.get(i).length();
    }
    assertEquals(r.sampleCount(), next);
  }

  @Test
  void chunksConcatenateExactlyToTheResult() {
    Path video = dir.resolve("chunks.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(96, 64).fps(25, 1).durationSeconds(16).flash(3, 0.2, 0xFFFFFF)
        .movingSquare(9, 12, 0xFF0000).build(), video);
    List<AudioChunk> chunks = new ArrayList<>();
    FoleyResult r = engine.submit(FoleyRequest.builder(video).prompt("footsteps").steps(8).build(),
        new FoleyListener() {
          @Override
          public void onChunk(AudioChunk c) {
            chunks.add(c);
          }
        }).await();
    assertEquals(3, chunks.size());
    float[] joined = new float[r.sampleCount()];
    for (AudioChunk c : chunks) {
      c.samples().get(joined, (int) c.sampleOffset(), c.length());
    }
    assertArrayEquals(r.toArray(), joined);
    assertTrue(AudioAnalysis.maxAbs(joined, 9 * 48000, 12 * 48000) > 0.05, "the moving square makes sound");
  }

  @Test
  void sameSeedSameSamplesOtherSeedOtherSamples() {
    Path video = dir.resolve("seed.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(3).flash(1, 0.12, 0xFFFFFF).build(), video);
    float[] a = engine.generate(FoleyRequest.builder(video).prompt("bell").seed(42).steps(10).build()).toArray();
    float[] b = engine.generate(FoleyRequest.builder(video).prompt("bell").seed(42).steps(10).build()).toArray();
    float[] c = engine.generate(FoleyRequest.builder(video).prompt("bell").seed(43).steps(10).build()).toArray();
    assertArrayEquals(a, b);
    assertFalse(java.util.Arrays.equals(a, c), "another seed gives other noise");
  }

  @Test
  void promptChangesTimbre() {
    Path video = dir.resolve("timbre.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(3).flash(1, 0.2, 0xFFFFFF).build(), video);
    float[] glass = engine.generate(FoleyRequest.of(video, "glass breaking")).toArray();
    float[] thunder = engine.generate(FoleyRequest.of(video, "low thunder rumble")).toArray();
    int at = (int) (0.98 * 48000);
    double cg = AudioAnalysis.spectralCentroid(glass, at, 8192, 48000);
    double ct = AudioAnalysis.spectralCentroid(thunder, at, 8192, 48000);
    assertTrue(cg > 1.5 * ct, String.format("centroid glass %.0f Hz should be well above thunder %.0f Hz", cg, ct));
  }

  @Test
  void stillVideoIsSilent() {
    Path video = dir.resolve("still.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(30, 1).durationSeconds(4).background(0x808080).build(), video);
    FoleyResult r = engine.generate(FoleyRequest.of(video, "explosion"));
    assertTrue(AudioAnalysis.maxAbs(r.toArray(), 0, r.sampleCount()) < 1e-3);
  }

  @Test
  void timingsCoverEveryStage() {
    Path video = dir.resolve("timings.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).build(), video);
    StageTimings t = engine.generate(FoleyRequest.builder(video).prompt("wind").steps(3).build()).timings();
    for (StageTimings.Phase p : List.of(StageTimings.Phase.DECODE, StageTimings.Phase.TEXT, StageTimings.Phase.VISUAL,
        StageTimings.Phase.SYNC, StageTimings.Phase.DENOISE, StageTimings.Phase.VAE, StageTimings.Phase.TOTAL)) {
      assertTrue(t.millis(p) > 0, p + " was timed: " + t);
    }
    assertTrue(t.millis(StageTimings.Phase.TOTAL) >= t.millis(StageTimings.Phase.DENOISE));
    assertFalse(t.resultCacheHit());
    assertNotNull(t.toString());
  }
}
