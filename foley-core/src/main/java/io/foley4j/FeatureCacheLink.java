package io.foley4j;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Safetensors;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.TensorCache;
import java.util.Map;

/**
 * The feature cache as a link of the pipeline: in front of the video it answers a job whose every
 * segment's features are stored ({@link #lookup}), so a prompt-only change skips decoding and the
 * video encoders; behind the video it stores each segment's features as they pass
 * ({@link #storingThrough}). Entries are keyed per (bundle, decoder, video bytes, segment) and carry
 * the container's duration, so a hit needs no video at all. The store is user code: a store that
 * throws is a miss or a dropped write, never a failed job.
 */
final class FeatureCacheLink {
  private final PipelineConfig pipeline;
  private final TensorCache cache;

  private FeatureCacheLink(PipelineConfig pipeline, TensorCache cache) {
    this.pipeline = pipeline;
    this.cache = cache;
  }

  /** The link, or null when the engine has no feature cache or the job no content key. */
  static FeatureCacheLink of(PipelineConfig pipeline, String videoDigest) {
    TensorCache cache = pipeline.featureCache();
    return cache == null || videoDigest == null ? null : new FeatureCacheLink(pipeline, cache);
  }

  /** Every segment's features of the video from the cache, or null (then the video is decoded). */
  FeatureStream lookup(FoleyRequest request, String videoDigest) {
    BundleManifest m = pipeline.manifest();
    CacheEntry first = get(key(videoDigest, 0));
    if (first == null) {
      return null;
    }
    long ticks;
    long scale;
    SegmentPlan plan;
    SegmentFeatures[] out;
    try {
      ticks = Long.parseLong(first.metadata().get("durationTicks"));
      scale = Long.parseLong(first.metadata().get("durationTimescale"));
      // an entry without the last frame's time (written before it was kept) is a miss
      double lastFrame = Double.parseDouble(first.metadata().get("lastFrameSeconds"));
      plan = new SegmentPlan(m, SegmentPlan.samplesFor(ticks, scale, m.audio().sampleRate()), lastFrame);
      out = new SegmentFeatures[plan.count];
      for (int k = 0; k < plan.count; k++) {
        CacheEntry e = k == 0 ? first : get(key(videoDigest, k));
        if (e == null || e.tensor("visual") == null || e.tensor("sync") == null
            || !Integer.toString(k).equals(e.metadata().get("segment"))
            || !pipeline.bundleDigest().equals(e.metadata().get("bundle"))
            || !first.metadata().get("durationTicks").equals(e.metadata().get("durationTicks"))) {
          return null; // not this segment's entry: a store mixing up keys is a miss
        }
        float[] v = e.tensor("visual").floats();
        float[] s = e.tensor("sync").floats();
        SegmentPlan.Segment seg = plan.segment(k);
        if (v.length != seg.visualFrames() * m.widths().visual() || s.length != seg.syncTokens() * m.widths().sync()) {
          return null;
        }
        out[k] = new SegmentFeatures(k, v, s);
      }
    } catch (RuntimeException malformed) { // a malformed entry is a miss
      return null;
    }
    VideoFeatures.plan(pipeline, request, ticks, scale, plan.lastFrameSeconds); // the engine's limits hold here too
    return new Cached(plan, ticks, scale, out);
  }

  /** {@code source}, storing each segment's features in the cache as the sampler takes them. */
  FeatureStream storingThrough(FeatureStream source, String videoDigest) {
    return new FeatureStream() {
      @Override
      public long pictureBytes() {
        return source.pictureBytes();
      }

      @Override
      public SegmentPlan plan() {
        return source.plan();
      }

      @Override
      public long durationTicks() {
        return source.durationTicks();
      }

      @Override
      public long durationTimescale() {
        return source.durationTimescale();
      }

      @Override
      public void start(StageCalls home) {
        source.start(home);
      }

      @Override
      public SegmentFeatures take(int k, Runnable whileWaiting) {
        SegmentFeatures sf = source.take(k, whileWaiting);
        store(videoDigest, sf, source);
        return sf;
      }

      @Override
      public void close() {
        source.close();
      }
    };
  }

  private void store(String videoDigest, SegmentFeatures sf, FeatureStream source) {
    BundleManifest m = pipeline.manifest();
    SegmentPlan plan = source.plan();
    CacheEntry entry = CacheEntry.of(Map.of(
        "visual", Safetensors.Tensor.f32(sf.visual(), plan.segment(sf.index()).visualFrames(), m.widths().visual()),
        "sync", Safetensors.Tensor.f32(sf.sync(), plan.segment(sf.index()).syncTokens(), m.widths().sync())), Map.of(
        "durationTicks", Long.toString(source.durationTicks()),
        "durationTimescale", Long.toString(source.durationTimescale()),
        "lastFrameSeconds", Double.toString(plan.lastFrameSeconds),
        "segment", Integer.toString(sf.index()), "bundle", pipeline.bundleDigest()));
    UserCode.run("feature cache put", () -> cache.put(key(videoDigest, sf.index()), entry));
  }

  private CacheEntry get(String key) {
    return UserCode.callOrNull("feature cache get", () -> cache.get(key));
  }


  private String key(String videoDigest, int k) {
    return CacheKeys.features(pipeline.bundleDigest(), pipeline.videoSourceName(), videoDigest, k);
  }

  /** Features found in the cache: all in memory, nothing to start or release. */
  private record Cached(SegmentPlan plan, long durationTicks, long durationTimescale, SegmentFeatures[] segments)
      implements FeatureStream {
    @Override
    public SegmentFeatures take(int k, Runnable whileWaiting) {
      SegmentFeatures sf = segments[k];
      segments[k] = null;
      return sf;
    }

    @Override
    public void close() {}
  }
}
