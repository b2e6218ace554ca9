package io.foley4j.gpu;

import io.foley4j.FoleyException;

/**
 * The option checks {@link CudaBackend.Builder} and {@link TensorRtBackend.Builder} share: an
 * option set twice is an {@link IllegalStateException}, a bad value a {@link FoleyException}
 * (INVALID_ARGUMENT).
 */
final class BuilderChecks {
  private BuilderChecks() {}

  /** Refuses a second call: {@code current} is the option's value so far, null while unset. */
  static void once(Object current, String what) {
    if (current != null) {
      throw new IllegalStateException(what + " was already set to " + current);
    }
  }

  /** As {@link #once(Object, String)} for a number option whose negative value means unset. */
  static void once(long current, String what) {
    once(current < 0 ? null : current, what);
  }

  static FoleyException invalid(String message) {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, message);
  }

  static <T> T notNull(T v, String what) {
    if (v == null) {
      throw invalid(what + " must not be null");
    }
    return v;
  }

  /** A CUDA device id, 0 to 1023, set once ({@code current} negative while unset). */
  static int deviceId(int current, int id) {
    once(current, "deviceId");
    if (id < 0 || id > 1023) {
      throw invalid("deviceId must be between 0 and 1023, was " + id);
    }
    return id;
  }

  /** A byte count of at least 1 MiB, set once ({@code current} negative while unset). */
  static long atLeastOneMiB(long current, long bytes, String what) {
    once(current, what);
    if (bytes < 1 << 20) {
      throw invalid(what + " must be at least 1 MiB (1048576 bytes), was " + bytes);
    }
    return bytes;
  }
}
