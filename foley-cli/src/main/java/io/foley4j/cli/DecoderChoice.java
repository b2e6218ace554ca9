package io.foley4j.cli;

import io.foley4j.FoleyException;
import io.foley4j.ffmpeg.FfmpegVideoSources;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * {@code --decoder auto|ffmpeg|jcodec|nvdec}. With {@code auto} and a GPU backend, when the GPU
 * module finds a driver, FFmpeg tries NVIDIA's hardware decoder first (each video falls back to
 * software decoding where NVDEC cannot take it); otherwise {@code auto} is FFmpeg when its natives
 * load, else jcodec. The GPU probe runs only when a GPU backend was chosen, so the CPU path never
 * loads JNA.
 */
final class DecoderChoice {
  private DecoderChoice() {}

  static VideoSourceFactory of(String decoder, BackendChoice.Kind backend) {
    return of(decoder, backend, () -> Gpu.driverPresent());
  }

  static VideoSourceFactory of(String decoder, BackendChoice.Kind backend, BooleanSupplier driverPresent) {
    String d = decoder == null ? "auto" : decoder.toLowerCase(Locale.ROOT);
    switch (d) {
      case "auto":
        if (backend != BackendChoice.Kind.CPU && driverPresent.getAsBoolean()) {
          try {
            return FfmpegVideoSources.ffmpegWithNvdec();
          } catch (FoleyException natives) { // FFmpeg's natives do not load here: auto's own fallback
            return VideoSources.auto();
          }
        }
        return VideoSources.auto();
      case "nvdec":
        return FfmpegVideoSources.ffmpegWithNvdec();
      default:
        return VideoSources.named(d); // ffmpeg, jcodec, or a typed error naming the choices
    }
  }

  /** Separate, so that the CPU path never loads a foley-gpu-cuda class. */
  private static final class Gpu {
    static boolean driverPresent() {
      io.foley4j.gpu.GpuReport r = io.foley4j.gpu.GpuProbe.run();
      return r.cudaDriver().ok() && !r.devices().isEmpty();
    }
  }
}
