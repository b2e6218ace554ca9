package io.foley4j.gpu;

import io.foley4j.FoleyException;

/**
 * A GPU backend cannot run here: no driver, no device, a CUDA, cuDNN or TensorRT library missing,
 * the CPU-only ONNX Runtime jar (or both jars) on the class path, or a provider that would not
 * start. Code {@link FoleyException.Code#BACKEND_FAILURE}; the message names every problem found,
 * the versions needed and how to fix them. Fix the machine or the class path, or choose
 * {@link Fallback#CPU} to run on the CPU instead.
 */
public class GpuUnavailableException extends FoleyException {
  private static final long serialVersionUID = 1L;

  public GpuUnavailableException(String message) {
    super(Code.BACKEND_FAILURE, message);
  }

  public GpuUnavailableException(String message, Throwable cause) {
    super(Code.BACKEND_FAILURE, message, cause);
  }
}
