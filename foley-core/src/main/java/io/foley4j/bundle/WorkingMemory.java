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
  private final long[] pointFixed; // per point, zeros when the manifest gives none
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
    this(batch, latents, bytes, null, method, fixed);
  }

  /**
   * The same, with each point's own fixed part ({@code points[i].fixed}, or null for none): what a
   * call of that length works in whatever its rows, read between the points as the bytes are.
   */
  public WorkingMemory(int batch, int[] latents, long[] bytes, long[] pointFixed, Method method, long fixed) {
    if (pointFixed != null && (pointFixed.length != bytes.length
        || Arrays.stream(pointFixed).anyMatch(f -> f < 0))) {
      throw new IllegalArgumentException("one non-negative fixed part per point needed");
    }
    this.pointFixed = pointFixed == null ? new long[bytes.length] : pointFixed.clone();
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
   * plus the points' own fixed parts read the same way (not below 0) and the {@linkplain
   * #fixedBytes() fixed} bytes.
   */
  public long bytesFor(int rows, int passLatents) {
    double perRow = at(bytes, passLatents);
    double pointPart = Math.max(0, at(pointFixed, passLatents));
    return saturatedSum(fixed, (long) Math.ceil(pointPart), (long) Math.ceil(perRow * rows / batch));
  }

  /** The sum, {@link Long#MAX_VALUE} where it would not fit (a charge never wraps to a negative). */
  private static long saturatedSum(long a, long b, long c) {
    try {
      return Math.addExact(Math.addExact(a, b), c);
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Each point's fixed part: what a call of its length works in whatever its rows (0: none). */
  public long[] pointFixed() {
    return pointFixed.clone();
  }

  private double at(long[] values, int passLatents) {
    if (latents.length == 0 || passLatents <= latents[0]) {
      return values[0];
    }
    int n = latents.length;
    if (n == 1) {
      return values[0] * (passLatents / (double) latents[0]);
    }
    int i = 1;
    while (i < n - 1 && latents[i] < passLatents) {
      i++;
    }
    double slope = (values[i] - values[i - 1]) / (double) (latents[i] - latents[i - 1]);
    return values[i - 1] + slope * (passLatents - latents[i - 1]);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WorkingMemory w && w.batch == batch && Arrays.equals(w.latents, latents)
        && Arrays.equals(w.bytes, bytes) && Arrays.equals(w.pointFixed, pointFixed) && w.method == method
        && w.fixed == fixed;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * (31 * batch + Arrays.hashCode(latents)) + Arrays.hashCode(bytes))
        + Arrays.hashCode(pointFixed)) + Long.hashCode(fixed);
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
      if (pointFixed[i] > 0) {
        b.append(String.format(Locale.ROOT, " (+ %.1f MiB a call)", pointFixed[i] / 1048576.0));
      }
    }
    if (fixed > 0) {
      b.append(String.format(Locale.ROOT, ", + %.1f MiB a call", fixed / 1048576.0));
    }
    return b.append(method == null ? "" : ", " + method.manifestName()).append(']').toString();
  }
}
