package io.foley4j.backend;

import ai.onnxruntime.OrtSession;
import io.foley4j.bundle.StageSpec;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The extension point for backends in other modules (foley-gpu-cuda's CUDA and TensorRT backends):
 * opens a stage on ONNX Runtime exactly as {@link CpuBackend} does — the same checks of the model's
 * inputs and outputs against the manifest, the same error codes, the same reuse of direct input
 * buffers and cancellation of a running call — and lets the caller add execution providers or
 * other session options first.
 *
 * <p>The session options start from {@code cpu}'s settings (intra-op threads, graph optimization,
 * CPU memory arena: ONNX Runtime still runs on the CPU whatever nodes a provider does not take);
 * then {@code configure} is called once with them, before the session is created. It may throw
 * a {@link io.foley4j.FoleyException} (for example when a provider cannot start), which
 * {@link #open} rethrows as it is, having freed what it had opened.
 */
public final class OrtSessions {
  private OrtSessions() {}

  /**
   * Loads one stage.
   *
   * @param cpu the CPU-side session settings (use {@link Backends#cpu()} for the defaults)
   * @param configure adds execution providers or options; called once, on the calling thread
   * @throws io.foley4j.InvalidBundleException if the model does not match its manifest entry or
   *     is not a loadable ONNX model
   * @throws io.foley4j.FoleyException with code BACKEND_FAILURE if ONNX Runtime cannot create the
   *     session (a provider that fails to start, for one), or whatever {@code configure} threw
   */
  public static StageSession open(StageSpec spec, Path modelFile, CpuBackend cpu,
      Consumer<OrtSession.SessionOptions> configure) {
    if (spec == null || modelFile == null || cpu == null || configure == null) {
      throw new io.foley4j.FoleyException(io.foley4j.FoleyException.Code.INVALID_ARGUMENT, "OrtSessions.open needs a"
          + " spec, a model file, CPU settings and a configure hook; got null for " + (spec == null ? "spec" : modelFile
          == null ? "modelFile" : cpu == null ? "cpu (use Backends.cpu())" : "configure (use so -> {})"));
    }
    return OrtStageSession.open(spec, modelFile, cpu.intraOpThreads(), cpu.optimization(), cpu.memoryArena(),
        configure).shrinkArenaAfterCalls(cpu);
  }
}
