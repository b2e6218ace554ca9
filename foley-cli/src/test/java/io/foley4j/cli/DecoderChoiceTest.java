package io.foley4j.cli;

import io.foley4j.jcodec.JcodecVideoSources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.ffmpeg.FfmpegVideoSources;
import io.foley4j.video.VideoSources;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Which decoder {@code --decoder} picks, and that NVDEC is tried only with a GPU backend and a driver. */
class DecoderChoiceTest {
  @Test
  void autoTriesNvdecOnlyWithAGpuBackendAndADriver() {
    AtomicInteger probes = new AtomicInteger();
    String nvdec = FfmpegVideoSources.ffmpegWithNvdec().id();
    String auto = VideoSources.auto().id();
    assertNotEquals(nvdec, auto, "NVDEC's pixels may differ: its own cache id");
    assertEquals(auto, DecoderChoice.of("auto", BackendChoice.Kind.CPU, () -> {
      probes.incrementAndGet();
      return true;
    }).id());
    assertEquals(0, probes.get(), "the CPU path never probes the GPU (nor loads JNA)");
    assertEquals(auto, DecoderChoice.of("auto", BackendChoice.Kind.CUDA, () -> false).id(), "no driver: software");
    assertEquals(nvdec, DecoderChoice.of("auto", BackendChoice.Kind.CUDA, () -> true).id());
    assertEquals(nvdec, DecoderChoice.of("AUTO", BackendChoice.Kind.TENSORRT, () -> true).id());
  }

  @Test
  void namedDecodersAndBadNames() {
    assertEquals(FfmpegVideoSources.ffmpegWithNvdec().id(), DecoderChoice.of("nvdec", BackendChoice.Kind.CPU).id());
    assertEquals(JcodecVideoSources.jcodec().id(), DecoderChoice.of("jcodec", BackendChoice.Kind.CPU).id());
    FoleyException e = assertThrows(FoleyException.class, () -> DecoderChoice.of("vlc", BackendChoice.Kind.CPU));
    assertTrue(e.getMessage().contains("vlc"), e.getMessage());
  }
}
