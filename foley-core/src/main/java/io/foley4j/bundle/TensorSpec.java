package io.foley4j.bundle;

import java.util.Arrays;
import java.util.Objects;

/**
 * Name, element type and shape of one stage input or output as declared in the manifest. A
 * symbolic dimension (the batch axis, written {@code "batch"}) is stored as {@code -1}.
 */
public final class TensorSpec {
  private final String name;
  private final String dtype;
  private final long[] shape;
  private final String[] symbols; // the names of symbolic dimensions, for messages (null: "batch", "?")

  public TensorSpec(String name, String dtype, long[] shape) {
    this(name, dtype, shape, null);
  }

  /**
   * @param symbols the manifest's name of each symbolic dimension (entries for fixed dimensions are
   *     ignored), shown by {@link #toString()}; null to show {@code batch} first and {@code ?} after
   */
  public TensorSpec(String name, String dtype, long[] shape, String[] symbols) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    this.symbols = symbols == null ? null : symbols.clone();
  }

  public String name() {
    return name;
  }

  /**
   * The element types a manifest may declare: {@code float32}, {@code float16} (IEEE 754 binary16),
   * {@code bfloat16} (the upper 16 bits of a float32) and {@code int64}. The half types need bundle
   * format v2.
   */
  public static final java.util.Set<String> DTYPES = java.util.Set.of("float32", "float16", "bfloat16", "int64");

  /**
   * {@code "float32"}, {@code "float16"}, {@code "bfloat16"} or {@code "int64"}. The engine holds
   * every float tensor as float32; a backend converts to and from the half types at the model's
   * boundary.
   */
  public String dtype() {
    return dtype;
  }

  /** Whether this is a floating-point tensor (float32, float16 or bfloat16): float32 in Java. */
  public boolean isFloat() {
    return !dtype.equals("int64");
  }

  /** Whether the model takes or gives it as a 16-bit float ({@code float16} or {@code bfloat16}). */
  public boolean isHalf() {
    return dtype.equals("float16") || dtype.equals("bfloat16");
  }

  /** The shape; {@code -1} marks a symbolic (batch) dimension. A copy. */
  public long[] shape() {
    return shape.clone();
  }

  /** Dimension {@code i}. */
  public long dim(int i) {
    return shape[i];
  }

  /**
   * The manifest's name of dimension {@code i} if it is symbolic ({@code "batch"}, {@code "frames"},
   * ...), empty if it is fixed or the name is not known. Backends that build shape profiles
   * (TensorRT) use it to find a length axis by name.
   */
  public java.util.Optional<String> symbol(int i) {
    if (shape[i] >= 0) {
      return java.util.Optional.empty();
    }
    if (symbols != null && i < symbols.length && symbols[i] != null) {
      return java.util.Optional.of(symbols[i]);
    }
    return i == 0 ? java.util.Optional.of("batch") : java.util.Optional.empty();
  }

  public int rank() {
    return shape.length;
  }

  /** Number of elements of one batch item (the product of all dimensions but the first). */
  public long itemElements() {
    long n = 1;
    for (int i = 1; i < shape.length; i++) {
      n *= shape[i];
    }
    return n;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(name).append(':').append(dtype).append('[');
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        b.append(',');
      }
      String symbol = symbols != null && i < symbols.length && symbols[i] != null ? symbols[i] : i == 0 ? "batch" : "?";
      b.append(shape[i] < 0 ? symbol : Long.toString(shape[i]));
    }
    return b.append(']').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && t.name.equals(name)
        && t.dtype.equals(dtype)
        && Arrays.equals(t.shape, shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape));
  }
}
