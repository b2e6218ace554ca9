package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lifetime of FFmpeg frames' RGB ({@link SwsRgb}); PyavRgbTest checks the bytes against PyAV.
 */
class FfmpegRgbTest {
  @TempDir
  static Path dir;

  @BeforeAll
  static void need() {
    Clips.require();
  }

  private static List<DecodedFrame> frames(Path video, boolean convertWhileOpen, List<byte[]> rgb) {
    List<DecodedFrame> out = new ArrayList<>();
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(video)) {
      for (DecodedFrame f; (f = s.next()) != null; ) {
        out.add(f);
        if (convertWhileOpen) {
          rgb.add(f.toRgb());
        }
      }
    }
    return out;
  }

  @Test
  void framesConvertTheSameAfterTheirSourceIsClosed() {
    for (String pixFmt : new String[] {"yuv420p", "yuv422p10le"}) {
      Path v = Clips.make(dir.resolve("after-" + pixFmt + ".mov"), "testsrc2=s=64x48:r=25:d=0.2", "-c:v",
          pixFmt.equals("yuv420p") ? "libx264" : "prores_ks", "-pix_fmt", pixFmt);
      List<byte[]> open = new ArrayList<>();
      List<DecodedFrame> frames = frames(v, true, open);
      assertEquals(5, frames.size());
      for (int i = 0; i < frames.size(); i++) {
        DecodedFrame f = frames.get(i);
        assertTrue(f.hasDecoderRgb());
        byte[] closed = f.toRgb(); // a converter of its own, freed at once
        assertArrayEquals(open.get(i), closed, pixFmt + " frame " + i);
        assertArrayEquals(closed, f.toRgb(), "converting twice");
      }
    }
  }

  @Test
  void everyConverterIsFreedOnEveryPath() {
    Path v = Clips.make(dir.resolve("cycle.mp4"), "testsrc2=s=160x90:r=25:d=0.4", "-c:v", "libx264", "-pix_fmt",
        "yuv420p");
    long before = SwsRgb.live();
    for (int i = 0; i < 200; i++) {
      DecodedFrame first;
      try (VideoSource s = FfmpegVideoSources.ffmpeg().open(v)) {
        first = s.next();
        if (i % 2 == 0) {
          first.toRgb(); // the source's converter, freed by close
          assertEquals(before + 1, SwsRgb.live(), "one converter per source");
        }
        if (i % 5 == 0) { // a failure inside a job that holds the source
          try {
            first.toTensor(0, io.foley4j.video.ResizeMode.SQUASH, io.foley4j.video.ResizeFilter.TORCH_BICUBIC,
                new float[3], new float[] {1, 1, 1}, new float[3], 0);
          } catch (FoleyException expected) {
            assertEquals(FoleyException.Code.INVALID_ARGUMENT, expected.code());
          }
        }
      }
      assertEquals(before, SwsRgb.live(), "after close, cycle " + i);
      if (i % 3 == 0) {
        first.toRgb(); // a temporary converter, freed at once
        assertEquals(before, SwsRgb.live(), "after a conversion past close, cycle " + i);
      }
    }
    // and from a thread that is interrupted: the conversion is native, it completes and frees
    Thread.currentThread().interrupt();
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(v)) {
      assertEquals(3 * 160 * 90, s.next().toRgb().length);
    } finally {
      assertTrue(Thread.interrupted(), "the interrupt is left for the caller");
    }
    assertEquals(before, SwsRgb.live());
  }

  @Test
  void anRgbBufferTooSmallIsInvalidArgument() {
    Path v = Clips.make(dir.resolve("small.mp4"), "testsrc2=s=64x48:r=25:d=0.08", "-c:v", "libx264", "-pix_fmt",
        "yuv420p");
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(v); SwsRgb rgb = new SwsRgb("test")) {
      DecodedFrame f = s.next();
      assertNotNull(f);
      SwsRgb.Picture p = new SwsRgb.Picture(0, 64, 48, new byte[][] {f.yPlane(), f.uPlane(), f.vPlane()},
          new int[] {64, 32, 32}, new int[] {48, 24, 24}, 2, 1, 1, false, 0); // AV_PIX_FMT_YUV420P, limited
      FoleyException e = assertThrows(FoleyException.class, () -> rgb.convert(p, new byte[3 * 64 * 48 - 1]));
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
      byte[] out = new byte[3 * 64 * 48];
      rgb.convert(p, out);
      assertArrayEquals(f.toRgb(), out, "the planes converted again give the frame's RGB");
    }
  }
}
