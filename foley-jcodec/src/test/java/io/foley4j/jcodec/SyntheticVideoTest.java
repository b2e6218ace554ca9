package io.foley4j.jcodec;

import io.foley4j.video.VideoSource;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSources;
import io.foley4j.video.SyntheticVideo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticVideoTest {
  @TempDir Path tmp;

  @Test
  void smallVideosAreFastAndDecodableByFfmpeg() {
    Path p = tmp.resolve("ten.mp4");
    SyntheticVideo v = SyntheticVideo.builder().size(160, 120).fps(30, 1).durationSeconds(10)
        .flash(5, 0.2, 0xffffff).movingSquare(1, 9, 0xff0000).build();
    long t0 = System.nanoTime();
    SyntheticMp4.write(v, p);
    double secs = (System.nanoTime() - t0) / 1e9;
    assertTrue(secs < 8, "encoding 300 small frames took " + secs + " s");
    assertEquals(300, v.frameCount());
    assertEquals("300", Ffmpeg.streamValue(p, "v:0", "nb_read_frames"));
    assertEquals("30/1", Ffmpeg.streamValue(p, "v:0", "r_frame_rate"));
    Ffmpeg.Result r = Ffmpeg.run("ffmpeg", "-v", "error", "-i", p.toString(), "-f", "null", "-");
    assertEquals("", r.stderr.trim());
  }

  @Test
  void movingSquareMovesRight() {
    Path p = tmp.resolve("sq.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 32).fps(25, 1).durationSeconds(1)
        .movingSquare(0, 1, 0xffffff).build(), p);
    try (VideoSource s = JcodecVideoSources.jcodec().open(p)) {
      int prevX = -1;
      int moves = 0;
      DecodedFrame f;
      while ((f = s.next()) != null) {
        byte[] y = f.yPlane();
        int row = 16 * 64;
        int x = 0;
        while (x < 64 && (y[row + x] & 0xff) < 128) {
          x++;
        }
        assertTrue(x < 64, "square visible in " + f);
        assertTrue(x >= prevX, "square moves right");
        if (x > prevX) {
          moves++;
        }
        prevX = x;
      }
      assertTrue(moves > 10, "moves " + moves);
    }
  }

  @Test
  void builderValidates() {
    SyntheticVideo.Builder b = SyntheticVideo.builder();
    for (Runnable r : new Runnable[] {
        () -> b.size(15, 16), () -> b.size(17, 16), () -> b.fps(0, 1), () -> b.fps(30, 0),
        () -> b.durationSeconds(0), () -> b.durationSeconds(Double.NaN),
        () -> b.flash(-1, 1, 0), () -> b.flash(1, 0, 0), () -> b.movingSquare(2, 1, 0)}) {
      FoleyException e = assertThrows(FoleyException.class, r::run);
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    }
    assertThrows(FoleyException.class,
        () -> SyntheticVideo.builder().fps(1, 1).durationSeconds(0.1).build());
  }

  @Test
  void flashCoversAHalfOpenInterval() {
    SyntheticVideo v = SyntheticVideo.builder().fps(30000, 1001).durationSeconds(3)
        .flash(1.0, 0.1, 0xffffff).build();
    // frames at 0.967 (29), 1.001 (30) ... 1.068 (32), 1.101 (33)
    assertEquals(0, v.frameColour(29));
    assertEquals(0xffffff, v.frameColour(30));
    assertEquals(0xffffff, v.frameColour(32));
    assertEquals(0, v.frameColour(33));
  }
}
