package io.foley4j;

import io.foley4j.bundle.Safetensors;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.TensorCache;
import java.util.Map;

/**
 * The result cache as a link of the pipeline: in front of everything else it answers a request
 * identical to an earlier one (same video bytes, prompt, parameters, bundle and decoder) with the
 * stored audio, without touching the backend; behind the sampler it stores what was computed. The
 * store is user code: a store that throws is a miss or a dropped write, never a failed job.
 */
final class ResultCacheLink {
  private static final System.Logger LOG = System.getLogger("io.foley4j");

  private final TensorCache cache;
  private final int sampleRate;
  private final String bundleDigest;

  private ResultCacheLink(TensorCache cache, int sampleRate, String bundleDigest) {
    this.cache = cache;
    this.sampleRate = sampleRate;
    this.bundleDigest = bundleDigest;
  }

  /** The link, or null when the engine has no result cache or the job no content key. */
  static ResultCacheLink of(EngineCore engine, String key) {
    TensorCache cache = engine.resultCache();
    return cache == null || key == null ? null : new ResultCacheLink(cache, engine.manifest().sampleRate(),
        engine.bundleDigest());
  }

  /** The stored audio for {@code key}, or null on a miss (absent, malformed, another rate). */
  float[] lookup(String key) {
    CacheEntry e;
    try {
      e = UserCode.call("result cache get", () -> cache.get(key));
    } catch (RuntimeException broken) {
      LOG.log(System.Logger.Level.WARNING, "result cache get threw; treating it as a miss", broken);
      return null;
    }
    if (e == null || e.tensor("audio") == null || !String.valueOf(sampleRate).equals(e.metadata().get("sampleRate"))) {
      return null;
    }
    try {
      float[] audio = e.tensor("audio").floats();
      return audio.length == 0 ? null : audio;
    } catch (RuntimeException malformed) {
      return null;
    }
  }

  void store(String key, float[] audio) {
    CacheEntry entry = CacheEntry.of(Map.of("audio", Safetensors.Tensor.f32(audio, audio.length)),
        Map.of("sampleRate", Integer.toString(sampleRate), "bundle", bundleDigest));
    UserCode.run("result cache put", () -> cache.put(key, entry));
  }
}
