package io.foley4j.backend;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense row-major tensor on the Java heap, float32 or int64, as exchanged with a {@link Backend}.
 * The arrays are shared, not copied: whoever builds a tensor hands its array over and must not
 * change it afterwards (a backend may keep a copy of a tensor's data across calls and reuse it when
 * given the same tensor object again, {@link StageSession#runBatch}). A stage tensor the manifest declares {@code float16} or {@code bfloat16} is
 * float32 here too; the backend converts at the model's boundary (docs/bundle-format.md, "Element
 * types").
 */
public final class Tensor {
  private final float[] floats;
  private final long[] longs;
  private final long[] shape;

  private Tensor(float[] floats, long[] longs, long[] shape) {
    this.floats = floats;
    this.longs = longs;
    this.shape = shape.clone();
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
    }
    int len = floats != null ? floats.length : longs.length;
    if (n != len) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " elements but the data has " + len);
    }
  }

  /** A float32 tensor over {@code data} (not copied). */
  public static Tensor of(float[] data, long... shape) {
    return new Tensor(Objects.requireNonNull(data, "data"), null, shape);
  }

  /** An int64 tensor over {@code data} (not copied). */
  public static Tensor ofLongs(long[] data, long... shape) {
    return new Tensor(null, Objects.requireNonNull(data, "data"), shape);
  }

  /**
   * The parts concatenated along the first dimension, in order: one new tensor (a part itself when
   * there is one). The parts must have the same element type, and the same shape apart from the
   * first dimension.
   */
  public static Tensor concat(Tensor... parts) {
    if (parts.length == 1) {
      return parts[0];
    }
    Tensor first = parts[0];
    long[] shape = first.shape();
    long rows = 0;
    long n = 0;
    for (Tensor p : parts) {
      if (p.isFloat() != first.isFloat() || p.rank() != first.rank() || p.rank() == 0) {
        throw new IllegalArgumentException("cannot concatenate " + p + " to " + first);
      }
      for (int d = 1; d < shape.length; d++) {
        if (p.shape[d] != shape[d]) {
          throw new IllegalArgumentException("cannot concatenate " + p + " to " + first);
        }
      }
      rows += p.shape[0];
      n += p.size();
    }
    shape[0] = rows;
    int len = Math.toIntExact(n);
    Object data = first.isFloat() ? new float[len] : new long[len];
    int off = 0;
    for (Tensor p : parts) {
      System.arraycopy(p.isFloat() ? p.floats : p.longs, 0, data, off, p.size());
      off += p.size();
    }
    return first.isFloat() ? of((float[]) data, shape) : ofLongs((long[]) data, shape);
  }

  public boolean isFloat() {
    return floats != null;
  }

  /** The float data (shared, not a copy). */
  public float[] floats() {
    if (floats == null) {
      throw new IllegalStateException("tensor is int64, not float32");
    }
    return floats;
  }

  /** The int64 data (shared, not a copy). */
  public long[] longs() {
    if (longs == null) {
      throw new IllegalStateException("tensor is float32, not int64");
    }
    return longs;
  }

  public long[] shape() {
    return shape.clone();
  }

  public long dim(int i) {
    return shape[i];
  }

  public int rank() {
    return shape.length;
  }

  public int size() {
    return floats != null ? floats.length : longs.length;
  }

  /** The {@code dtype} name used in manifests: "float32" or "int64". */
  public String dtype() {
    return floats != null ? "float32" : "int64";
  }

  @Override
  public String toString() {
    return "Tensor[" + dtype() + Arrays.toString(shape) + "]";
  }
}
