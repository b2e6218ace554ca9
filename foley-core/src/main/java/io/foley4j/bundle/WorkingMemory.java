package io.foley4j.bundle;

import java.util.Arrays;
import java.util.Locale;

/**
 * A stage's {@code workingMemory} (docs/bundle-format.md, "Working memory"): the memory one call
 * of the stage works in on top of its weights (its activations and the runtime's allocator),
 * recorded by the export tool at {@link #batch()} for one or more pass lengths. For the denoiser
 * and the VAE decoder each point is a pass of {@code latents} latents; the encoders have one point
 * and no length. Immutable.
 */
public final class WorkingMemory {
  /** How the tool found the bytes: scaled from a measured call, or from the graph alone. */
  public enum Method {
    MEASURED("measured"),
    GRAPH("graph");

    private final String manifestName;

    Method(String manifestName) {
      this.manifestName = manifestName;
    }

    /** The manifest's spelling. */
    public String manifestName() {
      return manifestName;
    }
  }

  private final int batch;
  private final int[] latents; // empty: no length
  private final long[] bytes;
  private final Method method;
  private final long fixed;

  /**
   * @param latents each point's pass length, strictly increasing, or null for a stage with one point
   *     and no length
   * @param bytes each point's bytes, non-negative and not decreasing with the length
   * @param method null when the manifest does not say
   */
  public WorkingMemory(int batch, int[] latents, long[] bytes, Method method) {
    this(batch, latents, bytes, method, 0);
  }

  /**
   * The same, with {@code fixed} bytes that a call works in whatever its rows (the manifest's
   * {@code fixed}; the points are then the part that grows with the rows).
   */
  public WorkingMemory(int batch, int[] latents, long[] bytes, Method method, long fixed) {
    if (fixed < 0) {
      throw new IllegalArgumentException("fixed must not be negative, was " + fixed);
    }
    this.fixed = fixed;
    if (batch < 1 || bytes.length == 0 || latents != null && latents.length != bytes.length
        || latents == null && bytes.length != 1) {
      throw new IllegalArgumentException("batch >= 1 and one or more points (one without latents) needed");
    }
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] < 0 || latents != null && (latents[i] < 1 || i > 0 && (latents[i] <= latents[i - 1]
          || bytes[i] < bytes[i - 1]))) {
        throw new IllegalArgumentException("points must have increasing latents and non-decreasing bytes");
      }
    }
    this.batch = batch;
    this.latents = latents == null ? new int[0] : latents.clone();
    this.bytes = bytes.clone();
    this.method = method;
  }

  /** The batch the points were recorded at. */
  public int batch() {
    return batch;
  }

  /** Whether the points have pass lengths. */
  public boolean hasLengths() {
    return latents.length > 0;
  }

  /** The points' pass lengths (empty: none). */
  public int[] latents() {
    return latents.clone();
  }

  /** The points' bytes at {@link #batch()}. */
  public long[] bytes() {
    return bytes.clone();
  }

  /** The bytes of a call that do not grow with its rows (0 when the manifest does not say). */
  public long fixedBytes() {
    return fixed;
  }

  /** How the bytes were found, or null when the manifest does not say. */
  public Method method() {
    return method;
  }

  /**
   * Bytes of one call of {@code rows} batch rows on a pass of {@code passLatents} latents: the points
   * interpolated linearly in the length (the first point's bytes below it; past the last, the last
   * two points' slope, or in proportion when there is one), times {@code rows / batch}, rounded up,
   * plus the {@linkplain #fixedBytes() fixed} bytes.
   */
  public long bytesFor(int rows, int passLatents) {
    double at;
    if (latents.length == 0 || passLatents <= latents[0]) {
      at = bytes[0];
    } else {
      int n = latents.length;
      int i = 1;
      while (i < n - 1 && latents[i] < passLatents) {
        i++;
      }
      if (n == 1) {
        at = bytes[0] * (passLatents / (double) latents[0]);
      } else {
        double slope = (bytes[i] - bytes[i - 1]) / (double) (latents[i] - latents[i - 1]);
        at = bytes[i - 1] + slope * (passLatents - latents[i - 1]);
      }
    }
    return fixed + (long) Math.ceil(at * rows / batch);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WorkingMemory w && w.batch == batch && Arrays.equals(w.latents, latents)
        && Arrays.equals(w.bytes, bytes) && w.method == method && w.fixed == fixed;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * batch + Arrays.hashCode(latents)) + Arrays.hashCode(bytes)) + Long.hashCode(fixed);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("WorkingMemory[batch ").append(batch);
    for (int i = 0; i < bytes.length; i++) {
      b.append(i == 0 ? ": " : ", ");
      if (latents.length > 0) {
        b.append(latents[i]).append(" latents ");
      }
      b.append(String.format(Locale.ROOT, "%.1f MiB", bytes[i] / 1048576.0));
    }
    if (fixed > 0) {
      b.append(String.format(Locale.ROOT, ", + %.1f MiB a call", fixed / 1048576.0));
    }
    return b.append(method == null ? "" : ", " + method.manifestName()).append(']').toString();
  }
}
