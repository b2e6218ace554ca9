package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.AudioAnalysis;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A/V sync through the FFmpeg source on the reference model: flashes at known times give audio
 * onsets within ±40 ms, and the audio lasts exactly as long as the video, on every kind of input.
 */
class FfmpegSyncTest extends ReferenceBundleTest {
  static FoleyEngine engine;

  @BeforeAll
  static void start() {
    engine = FoleyEngine.builder().bundle(bundle).name("ffsync").videoSources(FfmpegVideoSources.ffmpeg()).build();
  }

  @AfterAll
  static void stop() {
    if (engine != null) {
      engine.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"hevc-mp4", "vp9-webm", "h264-mkv", "h264-ts", "h264-fmp4", "rotated-mp4", "vfr-mp4",
      "editlist-mp4", "hevc10-mp4", "h264-10bit-mkv", "av1-mkv"})
  void onsetsMatchFlashesWithin40msAndLengthIsExact(String variant) {
    Path video = Clips.variant(dir, variant);
    FoleyResult r = engine.generate(FoleyRequest.of(video, "door knock"));
    // 163 frames at 25 fps: every container states 6.52 s exactly
    assertEquals(Math.round(6.52 * r.sampleRate()), r.sampleCount(), variant + ": samples");
    float[] x = r.toArray();
    List<Double> onsets = AudioAnalysis.onsets(x, r.sampleRate(), 0.02, 0.3);
    assertEquals(Clips.FLASHES.length, onsets.size(), variant + ": one onset per flash, found " + onsets);
    for (int i = 0; i < Clips.FLASHES.length; i++) {
      double err = onsets.get(i) - Clips.FLASHES[i];
      assertTrue(Math.abs(err) <= 0.040, String.format("%s: flash at %.3f s, onset at %.3f s (%.1f ms off)", variant,
          Clips.FLASHES[i], onsets.get(i), err * 1000));
    }
    assertTrue(AudioAnalysis.maxAbs(x, 0, (int) (0.9 * r.sampleRate())) < 1e-3, "silence before the first flash");
  }
}
