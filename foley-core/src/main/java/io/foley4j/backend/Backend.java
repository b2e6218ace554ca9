package io.foley4j.backend;

import io.foley4j.bundle.StageSpec;
import java.nio.file.Path;

/**
 * Runs the ONNX stages of a bundle on some device. foley-core ships the CPU backend
 * ({@link Backends#cpu()}); foley-gpu-cuda adds CUDA and TensorRT.
 *
 * <p>A backend is a stateless description (device, threads, options); an engine calls
 * {@link #open} once per stage at build time and closes the sessions when it closes. Implementations
 * must be thread-safe.
 */
public interface Backend {

  /** A short name for logs and stats ("cpu", "cuda:0"). */
  String name();

  /**
   * Loads one stage and checks that the model's declared inputs and outputs match {@code spec}.
   *
   * @throws io.foley4j.InvalidBundleException if the model does not match its manifest entry
   * @throws io.foley4j.FoleyException with code BACKEND_FAILURE if the runtime cannot load it
   */
  StageSession open(StageSpec spec, Path modelFile);

  /**
   * The device's free memory in bytes now, or empty when the backend has no memory of its own to
   * report (the CPU). An engine asks once, after this backend's stages loaded and warmed up, and
   * admits segments to the device within 90 % of it (docs/scheduling.md, "Several devices").
   * Must not throw; an implementation that cannot tell returns empty.
   */
  default java.util.OptionalLong freeMemoryBytes() {
    return java.util.OptionalLong.empty();
  }
}
