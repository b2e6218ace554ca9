package io.foley4j.ffmpeg;

import io.foley4j.jcodec.JcodecVideoSources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.TestSupport;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pixels: against jcodec on the same H.264 file, and against the ffmpeg CLI on a rotated one. */
class FfmpegFramesTest {
  @TempDir
  static Path dir;
  static VideoSourceFactory ffmpeg;

  @BeforeAll
  static void load() {
    Clips.require();
    ffmpeg = FfmpegVideoSources.ffmpeg();
  }

  private static List<DecodedFrame> all(VideoSourceFactory f, Path video) {
    List<DecodedFrame> out = new ArrayList<>();
    try (VideoSource s = f.open(video)) {
      for (DecodedFrame fr; (fr = s.next()) != null; ) {
        out.add(fr);
      }
    }
    return out;
  }

  @Test
  void bothSourcesGiveTheSameFramesOnH264() {
    Path v = Clips.make(dir.resolve("both.mp4"), "testsrc2=s=320x240:r=30000/1001:d=3", "-c:v", "libx264",
        "-pix_fmt", "yuv420p", "-bf", "3", "-g", "30");
    VideoInfo fi;
    VideoInfo ji;
    try (VideoSource a = ffmpeg.open(v); VideoSource b = JcodecVideoSources.jcodec().open(v)) {
      fi = a.info();
      ji = b.info();
    }
    assertEquals(ji.width(), fi.width());
    assertEquals(ji.height(), fi.height());
    assertEquals(ji.frameCount(), fi.frameCount());
    assertEquals(ji.durationSeconds(), fi.durationSeconds(), 1e-9);
    assertEquals(ji.lastFrameSeconds(), fi.lastFrameSeconds(), 1e-9);
    List<DecodedFrame> f = all(ffmpeg, v);
    List<DecodedFrame> j = all(JcodecVideoSources.jcodec(), v);
    assertEquals(j.size(), f.size());
    float[] tf = new float[3 * 224 * 224];
    float[] tj = new float[3 * 224 * 224];
    float[] mean = {0.5f, 0.5f, 0.5f};
    float[] std = {0.5f, 0.5f, 0.5f};
    double worst = 0;
    for (int i = 0; i < f.size(); i++) {
      assertEquals(j.get(i).ptsSeconds(), f.get(i).ptsSeconds(), 1e-9, "timestamp of frame " + i);
      f.get(i).toTensor(224, io.foley4j.video.ResizeMode.SQUASH, mean, std, tf, 0);
      j.get(i).toTensor(224, io.foley4j.video.ResizeMode.SQUASH, mean, std, tj, 0);
      double sum = 0;
      for (int k = 0; k < tf.length; k++) {
        sum += Math.abs(tf[k] - tj[k]);
      }
      worst = Math.max(worst, sum / tf.length);
    }
    System.out.printf(Locale.ROOT, "ffmpeg vs jcodec: worst mean |difference| %.5f (of a range of 2)%n", worst);
    assertTrue(worst < 0.01, "sampled frames differ by " + worst);
  }

  @Test
  void rotatedClipComesOutUprightAsTheCliShowsIt() throws IOException {
    Path plain = Clips.make(dir.resolve("r0.mp4"), "testsrc2=s=160x96:r=25:d=1", "-c:v", "libx264", "-pix_fmt",
        "yuv420p");
    for (int deg : new int[] {90, 180, 270}) {
      Path rot = Clips.convert(plain, dir.resolve("r" + deg + ".mp4"), "-c", "copy", "-metadata:s:v:0",
          "rotate=" + deg);
      // the CLI's own autorotation is the oracle
      Path raw = dir.resolve("r" + deg + ".yuv");
      TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", rot.toString(), "-frames:v", "1", "-f",
          "rawvideo", "-pix_fmt", "yuv420p", raw.toString());
      byte[] expect = java.util.Arrays.copyOf(Files.readAllBytes(raw), 160 * 96); // its luma plane
      try (VideoSource s = ffmpeg.open(rot)) {
        int w = deg == 180 ? 160 : 96;
        int h = deg == 180 ? 96 : 160;
        assertEquals(w, s.info().width(), deg + "°");
        assertEquals(h, s.info().height(), deg + "°");
        DecodedFrame fr = s.next();
        assertEquals(w, fr.width());
        byte[] y = fr.yPlane();
        assertEquals(expect.length, y.length);
        double diff = 0;
        for (int i = 0; i < y.length; i++) {
          diff += Math.abs((y[i] & 0xff) - (expect[i] & 0xff));
        }
        assertTrue(diff / y.length < 0.01, deg + "°: mean luma difference " + diff / y.length);
      }
    }
  }

  @Test
  void nvdecFallsBackToSoftwareWithTheSameFrames() {
    Path v = Clips.variant(dir, "hevc-mp4");
    List<DecodedFrame> soft = all(ffmpeg, v);
    List<DecodedFrame> hw = all(FfmpegVideoSources.ffmpegWithNvdec(), v);
    assertEquals(soft.size(), hw.size());
    try (FfmpegVideoSource s = FfmpegVideoSource.open(v, 1, true)) {
      System.out.println("with NVDEC asked, decoding with " + s.decoderName());
      boolean gpu = Files.exists(Path.of("/dev/nvidia0"));
      if (!gpu) {
        assertEquals("hevc", s.decoderName(), "no GPU here: software");
      }
    }
    for (int i = 0; i < soft.size(); i++) {
      assertEquals(soft.get(i).ptsTicks(), hw.get(i).ptsTicks());
      assertEquals(soft.get(i).meanLuma(), hw.get(i).meanLuma(), 2.0, "frame " + i);
    }
    assertTrue(FfmpegVideoSources.ffmpegWithNvdec().id().startsWith("ffmpeg-nvdec-"));
  }
}
