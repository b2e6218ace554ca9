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
  private final TensorCache cache;
  private final int sampleRate;
  private final String bundleDigest;

  private ResultCacheLink(TensorCache cache, int sampleRate, String bundleDigest) {
    this.cache = cache;
    this.sampleRate = sampleRate;
    this.bundleDigest = bundleDigest;
  }

  /** The link, or null when the engine has no result cache or the job no content key. */
  static ResultCacheLink of(PipelineConfig pipeline, String key) {
    TensorCache cache = pipeline.resultCache();
    return cache == null || key == null ? null : new ResultCacheLink(cache, pipeline.manifest().audio().sampleRate(),
        pipeline.bundleDigest());
  }

  /**
   * The stored audio for {@code key}, or null on a miss. An entry counts only if it is whole and
   * its own: stored under this key for this bundle at this rate, holding exactly the samples its
   * recorded duration gives. A store that returns anything else (corrupt, truncated, another key's
   * entry) is a miss, never a short result.
   */
  float[] lookup(String key) {
    CacheEntry e = UserCode.callOrNull("result cache get", () -> cache.get(key));
    if (e == null || e.tensor("audio") == null) {
      return null;
    }
    Map<String, String> meta = e.metadata();
    if (!String.valueOf(sampleRate).equals(meta.get("sampleRate")) || !key.equals(meta.get("key"))
        || !bundleDigest.equals(meta.get("bundle"))) {
      return null;
    }
    try {
      float[] audio = e.tensor("audio").floats();
      long expected = SegmentPlan.samplesFor(Long.parseLong(meta.get("durationTicks")),
          Long.parseLong(meta.get("durationTimescale")), sampleRate);
      return audio.length == 0 || audio.length != expected ? null : audio;
    } catch (RuntimeException malformed) {
      return null;
    }
  }

  /**
   * The stored audio of every key (one per variant, all of one length), or null unless each is a hit:
   * a request of several variants is answered from the cache only as a whole.
   */
  float[][] lookupAll(String[] keys) {
    float[][] out = new float[keys.length][];
    for (int v = 0; v < keys.length; v++) {
      out[v] = lookup(keys[v]);
      if (out[v] == null || out[v].length != out[0].length) {
        return null;
      }
    }
    return out;
  }

  /** Stores a computed result with what {@link #lookup} checks it against. */
  void store(String key, float[] audio, long durationTicks, long durationTimescale) {
    CacheEntry entry = CacheEntry.of(Map.of("audio", Safetensors.Tensor.f32(audio, audio.length)),
        Map.of("sampleRate", Integer.toString(sampleRate), "bundle", bundleDigest, "key", key,
            "durationTicks", Long.toString(durationTicks), "durationTimescale", Long.toString(durationTimescale)));
    UserCode.run("result cache put", () -> cache.put(key, entry));
  }
}
