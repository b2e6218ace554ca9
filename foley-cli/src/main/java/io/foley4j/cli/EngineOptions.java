package io.foley4j.cli;

import io.foley4j.backend.Backend;
import io.foley4j.video.VideoSourceFactory;
import picocli.CommandLine.Option;

/**
 * The options {@code foley generate} and {@code foley serve} share (a picocli mixin): the backend
 * ({@code --backend --device --fallback}) and the video decoder ({@code --decoder}). Public for
 * foley-bench's commands, which take the same options.
 */
public final class EngineOptions {
  @Option(names = "--backend", defaultValue = "cpu", description = "cpu, cuda or tensorrt (default ${DEFAULT-VALUE});"
      + " cuda and tensorrt need foley-gpu.jar's ONNX Runtime and an NVIDIA GPU (docs/gpu.md).")
  BackendChoice.Kind backend;

  @Option(names = "--device", split = ",", description = "GPU device id(s) for --backend cuda|tensorrt (default 0);"
      + " several (--device 0,1) run one engine on all of them, each segment on the least-loaded GPU.")
  java.util.List<Integer> device;

  @Option(names = "--segments-in-flight", description = "Segments of one job run at once (default 4; 1: one after"
      + " another, the soonest first chunk).")
  Integer segmentsInFlight;

  @Option(names = "--warm-up", description = "What build runs first: none, trained-shape (default), batch-buckets"
      + " (every batch size the scheduler can form; for GPU runtimes that prepare per shape) or full (also one"
      + " synthetic request through the whole pipeline).")
  String warmUp;

  @Option(names = "--fallback", description = "fail or cpu: what --backend cuda|tensorrt does when the GPU cannot be"
      + " used (default fail; cpu runs on the CPU after one warning).")
  BackendChoice.OnFailure fallback;

  @Option(names = "--decoder", defaultValue = "auto", description = "Video decoder: auto (FFmpeg if its natives load,"
      + " else jcodec; with --backend cuda|tensorrt and an NVIDIA driver, FFmpeg tries NVDEC first), ffmpeg, jcodec"
      + " or nvdec (FFmpeg with NVDEC first, software where it cannot) (default ${DEFAULT-VALUE}).")
  String decoder;

  /** The {@code --backend} chosen. */
  public BackendChoice.Kind backend() {
    return backend;
  }

  /** The backends, one per device; refuses bad combinations (--device with cpu) with a typed error. */
  public java.util.List<Backend> backends() {
    return BackendChoice.of(backend, device, fallback);
  }

  /** Sets the devices and the options above on an engine builder. */
  public io.foley4j.FoleyEngine.Builder configure(io.foley4j.FoleyEngine.Builder b) {
    b.devices(backends());
    if (segmentsInFlight != null) {
      b.segmentsInFlight(segmentsInFlight);
    }
    if (warmUp != null) {
      b.warmUp(warmUp());
    }
    return b;
  }

  private io.foley4j.WarmUp warmUp() {
    return parseWarmUp(warmUp);
  }

  /** {@code none|trained-shape|batch-buckets}; anything else is a typed error naming the choices. */
  public static io.foley4j.WarmUp parseWarmUp(String warmUp) {
    try {
      return io.foley4j.WarmUp.valueOf(warmUp.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new io.foley4j.FoleyException(io.foley4j.FoleyException.Code.INVALID_ARGUMENT, "--warm-up must be none,"
          + " trained-shape, batch-buckets or full, was \"" + warmUp + "\"");
    }
  }

  /** The video decoder for this backend. */
  VideoSourceFactory decoder() {
    return DecoderChoice.of(decoder, backend);
  }
}
