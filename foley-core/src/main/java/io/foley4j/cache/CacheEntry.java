package io.foley4j.cache;

import io.foley4j.bundle.Safetensors;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a cache stores under one key: named float32/int64 tensors plus string metadata. Its byte
 * form ({@link #toBytes()}) is the safetensors layout, so entries written to disk or Redis can be
 * read by Python tools ({@code safetensors.numpy.load_file}). Immutable; the tensors' arrays are
 * shared, not copied, and must not be changed.
 */
public final class CacheEntry {
  private final Map<String, Safetensors.Tensor> tensors;
  private final Map<String, String> metadata;
  private final long byteSize;

  private CacheEntry(Map<String, Safetensors.Tensor> tensors, Map<String, String> metadata) {
    this.tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    this.metadata = java.util.Collections.unmodifiableMap(new TreeMap<>(metadata));
    long n = 0;
    for (Safetensors.Tensor t : tensors.values()) {
      n += (long) t.size() * t.dtype().size();
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      n += e.getKey().length() + e.getValue().length();
    }
    this.byteSize = n;
  }

  public static CacheEntry of(Map<String, Safetensors.Tensor> tensors, Map<String, String> metadata) {
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(metadata, "metadata");
    return new CacheEntry(tensors, metadata);
  }

  public Map<String, Safetensors.Tensor> tensors() {
    return tensors;
  }

  /** The named tensor, or null. */
  public Safetensors.Tensor tensor(String name) {
    return tensors.get(name);
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  /** Bytes of tensor data and metadata: what a size-bounded cache weighs this entry as. */
  public long byteSize() {
    return byteSize;
  }

  /** The safetensors encoding of this entry. */
  public byte[] toBytes() {
    return Safetensors.toBytes(tensors, metadata);
  }

  /**
   * Parses the safetensors encoding.
   *
   * @throws io.foley4j.FoleyException with code INVALID_ARGUMENT if the bytes are not safetensors
   */
  public static CacheEntry fromBytes(byte[] bytes) {
    Safetensors.Contents c = Safetensors.parse(bytes);
    return new CacheEntry(c.tensors(), c.metadata());
  }

  @Override
  public String toString() {
    return "CacheEntry" + tensors.keySet() + "[" + byteSize + " bytes]";
  }
}
