package io.foley4j.examples;

import io.foley4j.backend.Backend;
import io.foley4j.video.VideoSourceFactory;
import picocli.CommandLine.Option;

/**
 * The options {@code foley generate} and {@code foley serve} share (a picocli mixin): the backend
 * ({@code --backend --device --fallback}) and the video decoder ({@code --decoder}).
 */
final class EngineOptions {
  @Option(names = "--backend", defaultValue = "cpu", description = "cpu, cuda or tensorrt (default ${DEFAULT-VALUE});"
      + " cuda and tensorrt need foley-gpu.jar's ONNX Runtime and an NVIDIA GPU (docs/gpu.md).")
  BackendChoice.Kind backend;

  @Option(names = "--device", description = "GPU device id for --backend cuda|tensorrt (default 0).")
  Integer device;

  @Option(names = "--fallback", description = "fail or cpu: what --backend cuda|tensorrt does when the GPU cannot be"
      + " used (default fail; cpu runs on the CPU after one warning).")
  BackendChoice.OnFailure fallback;

  @Option(names = "--decoder", defaultValue = "auto", description = "Video decoder: auto (FFmpeg if its natives load,"
      + " else jcodec; with --backend cuda|tensorrt and an NVIDIA driver, FFmpeg tries NVDEC first), ffmpeg, jcodec"
      + " or nvdec (FFmpeg with NVDEC first, software where it cannot) (default ${DEFAULT-VALUE}).")
  String decoder;

  /** The backend; refuses bad combinations (--device with cpu) with a typed error. */
  Backend backend() {
    return BackendChoice.of(backend, device, fallback);
  }

  /** The video decoder for this backend. */
  VideoSourceFactory decoder() {
    return DecoderChoice.of(decoder, backend);
  }
}
