package io.foley4j.bundle;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.foley4j.FoleyException;
import io.foley4j.text.StrictJson;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Reader and writer of the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format for {@code F32} and {@code I64} tensors: an 8-byte little-endian header length, a JSON
 * header {@code {"name":{"dtype":"F32","shape":[..],"data_offsets":[begin,end]}, "__metadata__":{..}}}
 * (padded with spaces to a multiple of 8 bytes), then the raw little-endian data.
 *
 * <p>Writing is deterministic: tensors are laid out in name order. Reading checks the whole layout
 * (header bounds, strict JSON without repeated names, dtypes, shapes, offsets that match the shape
 * and neither overlap nor leave gaps) and reports any malformed content as a {@link FoleyException} with code
 * {@link FoleyException.Code#INVALID_ARGUMENT}; a file that cannot be read or written is reported
 * with code {@link FoleyException.Code#IO}. A bundle's safetensors file is read through
 * {@link ModelBundle#unconditional()}, which reports the same defects as
 * {@link FoleyException.Code#INVALID_BUNDLE} naming the file.
 */
public final class Safetensors {
  /** Largest accepted JSON header (safetensors itself caps it at 100 MB). */
  public static final int MAX_HEADER_BYTES = 100_000_000;

  private static final String METADATA = "__metadata__";

  private Safetensors() {}

  /** Element type of a tensor. */
  public enum DType {
    /** 32-bit IEEE float. */
    F32(4),
    /** 64-bit signed integer. */
    I64(8);

    private final int size;

    DType(int size) {
      this.size = size;
    }

    /** Bytes per element. */
    public int size() {
      return size;
    }
  }

  /** An immutable tensor: dtype, shape and row-major values (floats for F32, longs for I64). */
  public static final class Tensor {
    private final DType dtype;
    private final long[] shape;
    private final float[] floats;
    private final long[] longs;

    private Tensor(DType dtype, long[] shape, float[] floats, long[] longs) {
      this.dtype = dtype;
      this.shape = shape;
      this.floats = floats;
      this.longs = longs;
    }

    /** An F32 tensor; {@code data.length} must equal the product of {@code shape}. */
    public static Tensor f32(float[] data, long... shape) {
      checkCount(data.length, shape);
      return new Tensor(DType.F32, shape.clone(), data.clone(), null);
    }

    /** An I64 tensor; {@code data.length} must equal the product of {@code shape}. */
    public static Tensor i64(long[] data, long... shape) {
      checkCount(data.length, shape);
      return new Tensor(DType.I64, shape.clone(), null, data.clone());
    }

    /** The element type. */
    public DType dtype() {
      return dtype;
    }

    /** A copy of the shape. */
    public long[] shape() {
      return shape.clone();
    }

    /** Number of elements. */
    public int size() {
      return dtype == DType.F32 ? floats.length : longs.length;
    }

    /** A copy of the F32 values. @throws IllegalStateException if this is not F32 */
    public float[] floats() {
      if (dtype != DType.F32) {
        throw new IllegalStateException("tensor is " + dtype + ", not F32");
      }
      return floats.clone();
    }

    /** A copy of the I64 values. @throws IllegalStateException if this is not I64 */
    public long[] longs() {
      if (dtype != DType.I64) {
        throw new IllegalStateException("tensor is " + dtype + ", not I64");
      }
      return longs.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Tensor t && dtype == t.dtype && Arrays.equals(shape, t.shape)
          && Arrays.equals(floats, t.floats) && Arrays.equals(longs, t.longs);
    }

    @Override
    public int hashCode() {
      return Objects.hash(dtype, Arrays.hashCode(shape), Arrays.hashCode(floats), Arrays.hashCode(longs));
    }

    @Override
    public String toString() {
      return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }

    private static void checkCount(int length, long[] shape) {
      long n = 1;
      for (long d : shape) {
        if (d < 0) {
          throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
        }
        n = Math.multiplyExact(n, d);
      }
      if (n != length) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + length);
      }
    }
  }

  /** The contents of a safetensors file: tensors by name (in file order) and string metadata. */
  public static final class Contents {
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
      this.tensors = Collections.unmodifiableMap(tensors);
      this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Tensors by name, in the order of their data in the file. */
    public Map<String, Tensor> tensors() {
      return tensors;
    }

    /** The {@code __metadata__} entries (empty if there are none). */
    public Map<String, String> metadata() {
      return metadata;
    }

    /** The named tensor. @throws FoleyException (INVALID_ARGUMENT) if it is missing */
    public Tensor tensor(String name) {
      Tensor t = tensors.get(name);
      if (t == null) {
        throw invalid("safetensors has no tensor '" + name + "' (has " + tensors.keySet() + ")");
      }
      return t;
    }
  }

  /** Encodes tensors (laid out in name order) and metadata to safetensors bytes. */
  public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(metadata, "metadata");
    TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
    if (sorted.containsKey(METADATA)) {
      throw new IllegalArgumentException("'" + METADATA + "' is reserved and cannot name a tensor");
    }
    JsonObject header = new JsonObject();
    if (!metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      new TreeMap<>(metadata).forEach((k, v) -> meta.addProperty(
          Objects.requireNonNull(k, "metadata key"), Objects.requireNonNull(v, "metadata value")));
      header.add(METADATA, meta);
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
      Tensor t = Objects.requireNonNull(e.getValue(), "tensor " + e.getKey());
      JsonObject entry = new JsonObject();
      entry.addProperty("dtype", t.dtype.name());
      JsonArray shape = new JsonArray();
      for (long d : t.shape) {
        shape.add(d);
      }
      entry.add("shape", shape);
      long end = offset + (long) t.size() * t.dtype.size;
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offsets.add(end);
      entry.add("data_offsets", offsets);
      header.add(e.getKey(), entry);
      offset = end;
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    long total = 8L + padded + offset;
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensors too large for one safetensors buffer: " + total + " bytes");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(padded);
    buf.put(json);
    for (int i = json.length; i < padded; i++) {
      buf.put((byte) ' ');
    }
    for (Tensor t : sorted.values()) {
      if (t.dtype == DType.F32) {
        for (float v : t.floats) {
          buf.putFloat(v);
        }
      } else {
        for (long v : t.longs) {
          buf.putLong(v);
        }
      }
    }
    return buf.array();
  }

  /** Writes tensors and metadata to {@code file} (replacing it). @throws FoleyException (IO) on failure */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
    byte[] bytes = toBytes(tensors, metadata);
    try {
      Files.write(file, bytes);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot write safetensors file " + file + ": " + e.getMessage(), e);
    }
  }

  /** Reads a safetensors file. @throws FoleyException IO if unreadable, INVALID_ARGUMENT if malformed */
  public static Contents read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read safetensors file " + file + ": " + e.getMessage(), e);
    }
    try {
      return parse(bytes);
    } catch (FoleyException e) {
      throw new FoleyException(e.code(), file + ": " + e.getMessage(), e.getCause());
    }
  }

  /** Parses safetensors bytes. @throws FoleyException (INVALID_ARGUMENT) if malformed */
  public static Contents parse(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length < 8) {
      throw invalid("safetensors data is " + bytes.length + " bytes, shorter than its 8-byte header length");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLen = buf.getLong(0);
    if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > bytes.length - 8L) {
      throw invalid("safetensors header length " + headerLen + " is invalid for " + bytes.length + " bytes of data");
    }
    int dataStart = 8 + (int) headerLen;
    long dataLen = bytes.length - (long) dataStart;
    JsonElement root = StrictJson.parse(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8),
        "safetensors header", FoleyException.Code.INVALID_ARGUMENT);
    if (!root.isJsonObject()) {
      throw invalid("safetensors header is not a JSON object");
    }
    JsonObject header = root.getAsJsonObject();
    Map<String, String> metadata = new LinkedHashMap<>();
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {}
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      String name = e.getKey();
      if (name.equals(METADATA)) {
        if (!e.getValue().isJsonObject()) {
          throw invalid("safetensors __metadata__ must be an object of strings");
        }
        for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
          if (!m.getValue().isJsonPrimitive() || !m.getValue().getAsJsonPrimitive().isString()) {
            throw invalid("safetensors __metadata__ value of '" + m.getKey() + "' is not a string");
          }
          metadata.put(m.getKey(), m.getValue().getAsString());
        }
        continue;
      }
      if (!e.getValue().isJsonObject()) {
        throw invalid("safetensors entry '" + name + "' is not an object");
      }
      JsonObject o = e.getValue().getAsJsonObject();
      JsonElement dt = o.get("dtype");
      if (dt == null || !dt.isJsonPrimitive() || !dt.getAsJsonPrimitive().isString()) {
        throw invalid("safetensors entry '" + name + "' has no dtype");
      }
      DType dtype;
      try {
        dtype = DType.valueOf(dt.getAsString());
      } catch (IllegalArgumentException ex) {
        throw invalid("safetensors entry '" + name + "' has unsupported dtype " + dt.getAsString() + " (supported: F32, I64)");
      }
      long[] shape = longs(o.get("shape"), name, "shape", -1);
      long[] offsets = longs(o.get("data_offsets"), name, "data_offsets", 2);
      long count = 1;
      for (long d : shape) {
        if (d > Integer.MAX_VALUE || (d > 0 && count > Integer.MAX_VALUE / d)) {
          throw invalid("safetensors entry '" + name + "' shape " + Arrays.toString(shape) + " is too large");
        }
        count *= d;
      }
      if (offsets[0] > offsets[1] || offsets[1] > dataLen) {
        throw invalid("safetensors entry '" + name + "' data_offsets " + Arrays.toString(offsets)
            + " are outside the " + dataLen + " data bytes");
      }
      if (offsets[1] - offsets[0] != count * dtype.size) {
        throw invalid("safetensors entry '" + name + "' has " + (offsets[1] - offsets[0]) + " data bytes but "
            + dtype + " " + Arrays.toString(shape) + " needs " + count * dtype.size);
      }
      entries.add(new Entry(name, dtype, shape, offsets[0], offsets[1]));
    }
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long expected = 0;
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Entry en : entries) {
      if (en.begin != expected) {
        throw invalid("safetensors entry '" + en.name + "' starts at " + en.begin + " but the previous data ends at "
            + expected + " (overlapping or gapped data)");
      }
      expected = en.end;
      ByteBuffer data = ByteBuffer.wrap(bytes, dataStart + (int) en.begin, (int) (en.end - en.begin)).slice()
          .order(ByteOrder.LITTLE_ENDIAN);
      if (en.dtype == DType.F32) {
        float[] v = new float[(int) ((en.end - en.begin) / 4)];
        data.asFloatBuffer().get(v);
        tensors.put(en.name, new Tensor(DType.F32, en.shape, v, null));
      } else {
        long[] v = new long[(int) ((en.end - en.begin) / 8)];
        data.asLongBuffer().get(v);
        tensors.put(en.name, new Tensor(DType.I64, en.shape, null, v));
      }
    }
    if (expected != dataLen) {
      throw invalid("safetensors data is " + dataLen + " bytes but the tensors cover " + expected);
    }
    return new Contents(tensors, metadata);
  }

  private static long[] longs(JsonElement e, String name, String field, int length) {
    if (e == null || !e.isJsonArray()) {
      throw invalid("safetensors entry '" + name + "' has no " + field + " array");
    }
    JsonArray a = e.getAsJsonArray();
    if (length >= 0 && a.size() != length) {
      throw invalid("safetensors entry '" + name + "' " + field + " must have " + length + " values");
    }
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement v = a.get(i);
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
        throw invalid("safetensors entry '" + name + "' " + field + " holds a non-number");
      }
      BigDecimal d = ((JsonPrimitive) v).getAsBigDecimal();
      try {
        out[i] = d.longValueExact();
      } catch (ArithmeticException ex) {
        throw invalid("safetensors entry '" + name + "' " + field + " holds " + d + ", not an integer");
      }
      if (out[i] < 0) {
        throw invalid("safetensors entry '" + name + "' " + field + " holds a negative value");
      }
    }
    return out;
  }

  private static FoleyException invalid(String message) {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, message);
  }
}
