package io.foley4j.cachestore;

import io.foley4j.bundle.Safetensors;
import io.foley4j.cache.CacheEntry;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;

/** Small test entries whose content is a function of a seed. */
final class Entries {
  private Entries() {}

  /** An entry with one F32 tensor "audio" of {@code n} values derived from {@code seed}. */
  static CacheEntry entry(int n, long seed) {
    float[] data = new float[n];
    for (int i = 0; i < n; i++) {
      data[i] = seed * 1000 + i * 0.5f;
    }
    return CacheEntry.of(Map.of("audio", Safetensors.Tensor.f32(data, n)), Map.of("sampleRate", "48000"));
  }

  /** A 64-digit lowercase hex key derived from {@code i} (like the engine's SHA-256 keys). */
  static String key(long i) {
    byte[] b = new byte[32];
    new Random(i * 7919 + 13).nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** Whether two entries hold equal tensors and metadata. */
  static boolean same(CacheEntry a, CacheEntry b) {
    return a.tensors().equals(b.tensors()) && a.metadata().equals(b.metadata());
  }
}
