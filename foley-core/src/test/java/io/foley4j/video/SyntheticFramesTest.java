package io.foley4j.video;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.foley4j.FoleyException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A SyntheticVideo's frames straight from memory: no container, no codec. */
class SyntheticFramesTest {

  @Test
  void framesComeInOrderWithExactTimestampsAndTheFlashColour() {
    SyntheticVideo v = SyntheticVideo.builder().size(32, 16).fps(30000, 1001).durationSeconds(1)
        .flash(0.5, 0.1, 0xFFFFFF).build();
    try (VideoSource s = v.open()) {
      VideoInfo info = s.info();
      assertEquals(32, info.width());
      assertEquals(16, info.height());
      assertEquals(v.frameCount(), info.frameCount());
      assertEquals(v.frameCount() * 1001L, info.durationTicks());
      assertEquals(30000, info.durationTimescale());
      assertEquals(v.frameTime(v.frameCount() - 1), info.lastFrameSeconds(), 1e-9);
      int n = 0;
      for (DecodedFrame f; (f = s.next()) != null; n++) {
        assertEquals(n * 1001L, f.ptsTicks());
        assertEquals(30000, f.timescale());
        double luma = f.meanLuma();
        if (v.frameColour(n) == 0xFFFFFF) {
          assertEquals(235, luma, 0.5, "white is Y 235 in limited range, frame " + n);
        } else {
          assertEquals(16, luma, 0.5, "black is Y 16, frame " + n);
        }
      }
      assertEquals(v.frameCount(), n);
      assertNull(s.next());
      s.close();
      assertEquals(FoleyException.Code.CLOSED, assertThrows(FoleyException.class, s::next).code());
    }
  }

  @Test
  void theFactoryOpensTheSameFramesWhateverItsInputAndNamesTheVideo() {
    SyntheticVideo a = SyntheticVideo.builder().durationSeconds(0.5).movingSquare(0, 0.5, 0xFF0000).build();
    SyntheticVideo b = SyntheticVideo.builder().durationSeconds(0.5).build();
    VideoSourceFactory f = a.asFactory();
    try (VideoSource fromPath = f.open(Path.of("not-read.mp4"));
        VideoSource fromBytes = f.open(ByteBuffer.allocate(1), 1)) {
      assertEquals(fromPath.info(), fromBytes.info());
      DecodedFrame x = fromPath.next();
      DecodedFrame y = fromBytes.next();
      assertEquals(x.toString(), y.toString());
      assertEquals(x.meanLuma(), y.meanLuma());
    }
    assertEquals(a.asFactory().id(), f.id());
    assertNotEquals(b.asFactory().id(), f.id());
    assertSame(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class,
        () -> a.renderYuv420(a.frameCount(), new byte[0], 0, new byte[0], new byte[0], 0)).code());
  }
}
