package io.foley4j.gpu;

/** How one part of a {@link GpuProbe} went. */
public enum ProbeStatus {
  /** Found and answered. */
  OK,
  /** The shared library is not installed or not on the loader's path (no driver, no CUDA, no TensorRT). */
  LIBRARY_NOT_FOUND,
  /** The library loaded but lacks the function (too old a driver or library). */
  SYMBOL_NOT_FOUND,
  /** The function returned an error code (named in the message). */
  CALL_FAILED,
  /** The driver answered but there is no usable GPU (none at all, or not the one asked for). */
  NO_DEVICE,
  /** Not tried, because something it needs failed first. */
  NOT_CHECKED
}
