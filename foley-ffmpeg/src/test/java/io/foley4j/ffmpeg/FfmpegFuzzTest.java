package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.foley4j.FoleyException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import java.nio.ByteBuffer;

/**
 * Fuzzes the FFmpeg path over container bytes through the memory input: arbitrary bytes opened by
 * {@link FfmpegVideoSources#ffmpeg()}'s {@code open(ByteBuffer, threads)} (the custom AVIOContext,
 * probing, the packet scan, timeline repair, the decoder, pixel conversion), then info and up to
 * {@link #MAX_FRAMES} frames. The only acceptable failure is a typed {@link FoleyException};
 * anything else (another exception, an error, a JVM crash in native code) is a finding.
 *
 * <p>{@code mvn verify} runs the corpus in {@code FfmpegFuzzTestInputs/decode/} (regression mode);
 * {@code JAZZER_FUZZ=1 FOLEY_REQUIRE_FFMPEG=1 mvn -pl foley-ffmpeg -am test -Dtest=FfmpegFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false} fuzzes for {@code maxDuration}.
 */
class FfmpegFuzzTest {
  /** Frames read per input at most. */
  static final int MAX_FRAMES = 200;
  /** Pictures above this many pixels are not decoded further (memory, not correctness). */
  static final long MAX_PIXELS = 4096L * 4096L;

  @FuzzTest(maxDuration = "60s")
  void decode(byte[] data) {
    ByteBuffer bytes = ByteBuffer.allocateDirect(Math.max(1, data.length));
    bytes.put(data).flip();
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(bytes, 1)) {
      VideoInfo info = s.info();
      assertNotNull(info);
      assertTrue(info.width() > 0 && info.height() > 0, "size " + info.width() + "x" + info.height());
      assertTrue(info.frameCount() > 0, "frames " + info.frameCount());
      if ((long) info.width() * info.height() > MAX_PIXELS) {
        return;
      }
      for (int i = 0; i < MAX_FRAMES; i++) {
        DecodedFrame f = s.next();
        if (f == null) {
          break;
        }
        assertTrue(f.width() > 0 && f.height() > 0);
        assertTrue(f.yPlane().length >= f.width() * f.height(), "luma plane smaller than the picture");
        assertTrue(Double.isFinite(f.ptsSeconds()), "pts " + f.ptsSeconds());
      }
    } catch (FoleyException e) {
      assertNotNull(e.code());
      assertNotNull(e.getMessage());
      assertTrue(e.getMessage().length() > 10, e.getMessage());
    }
  }
}
