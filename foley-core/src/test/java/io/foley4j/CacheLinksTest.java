package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Safetensors;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.TensorCache;
import io.foley4j.video.VideoSourceFactory;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The result and feature cache links alone: a store of our own, no engine, no video. */
class CacheLinksTest extends SmallBundleTest {
  private static BundleManifest m;

  @BeforeAll
  static void open() {
    m = bundle.manifest();
  }

  private static PipelineConfig pipeline(TensorCache results, TensorCache features) {
    var u = bundle.unconditional();
    VideoSourceFactory decoder = new VideoSourceFactory() {
      @Override
      public io.foley4j.video.VideoSource open(Path file) {
        throw new AssertionError("a cache link never opens the video");
      }

      @Override
      public String id() {
        return "test-decoder";
      }
    };
    return new PipelineConfig(m, bundle.tokenizer(), u.visual(), u.sync(), null, 4, 4, decoder, 1,
        java.time.Duration.ofHours(1), results, features, false, bundle.digest(), 1, 0, Long.MAX_VALUE,
        FoleyEngine.DEFAULT_MAX_PICTURE_PIXELS);
  }

  @Test
  void resultLinkAnswersOnlyWholeEntriesOfItsOwnKey() {
    MapCache store = new MapCache();
    PipelineConfig p = pipeline(store, null);
    assertNull(ResultCacheLink.of(p, null), "a job without a content key has no result link");
    ResultCacheLink link = ResultCacheLink.of(p, "k1");
    assertNull(link.lookup("k1"), "empty store: a miss");
    int samples = (int) SegmentPlan.samplesFor(3, 1, m.audio().sampleRate());
    float[] audio = new float[samples];
    audio[5] = 0.5f;
    link.store("k1", audio, 3, 1);
    assertArrayEquals(audio, link.lookup("k1"));
    store.map.put("k2", store.map.get("k1")); // a store that mixes up keys
    assertNull(link.lookup("k2"), "another key's entry is a miss");
    store.map.put("k1", CacheEntry.of(Map.of("audio", Safetensors.Tensor.f32(new float[samples - 1], samples - 1)),
        store.map.get("k1").metadata()));
    assertNull(link.lookup("k1"), "a truncated entry is a miss, never a short result");
  }

  @Test
  void featureLinkStoresWhatPassesAndAnswersEverySegmentLater() {
    MapCache store = new MapCache();
    PipelineConfig p = pipeline(null, store);
    FeatureCacheLink link = FeatureCacheLink.of(p, "video-digest");
    FoleyRequest req = FoleyRequest.builder(Path.of("never-read.mp4")).prompt("x").build();
    assertNull(link.lookup(req, "video-digest"));
    long total = SegmentPlan.samplesFor(20, 1, m.audio().sampleRate());
    SegmentPlan plan = new SegmentPlan(m, total, 19.9);
    SegmentFeatures[] made = new SegmentFeatures[plan.count];
    for (int k = 0; k < plan.count; k++) {
      SegmentPlan.Segment seg = plan.segment(k);
      float[] v = new float[seg.visualFrames() * m.widths().visual()];
      float[] s = new float[seg.syncTokens() * m.widths().sync()];
      v[0] = k + 1;
      s[1] = -(k + 1);
      made[k] = new SegmentFeatures(k, v, s);
    }
    FeatureStream source = new FeatureStream() {
      @Override
      public SegmentPlan plan() {
        return plan;
      }

      @Override
      public long durationTicks() {
        return 20;
      }

      @Override
      public long durationTimescale() {
        return 1;
      }

      @Override
      public SegmentFeatures take(int k, Runnable whileWaiting) {
        return made[k];
      }

      @Override
      public void close() {}
    };
    try (FeatureStream through = link.storingThrough(source, "video-digest")) {
      for (int k = 0; k < plan.count; k++) {
        through.take(k, () -> {});
      }
    }
    assertEquals(plan.count, store.map.size(), "one entry per segment");
    FeatureStream cached = link.lookup(req, "video-digest");
    assertNotNull(cached, "every segment stored: a hit");
    assertEquals(plan.count, cached.plan().count);
    assertEquals(20, cached.durationTicks());
    for (int k = 0; k < plan.count; k++) {
      SegmentFeatures sf = cached.take(k, () -> {});
      assertArrayEquals(made[k].visual(), sf.visual());
      assertArrayEquals(made[k].sync(), sf.sync());
    }
    assertNull(FeatureCacheLink.of(p, "video-digest").lookup(req, "another-video"), "another video: a miss");
    store.map.remove(store.map.keySet().iterator().next());
    assertNull(link.lookup(req, "video-digest"), "a missing segment makes the whole lookup a miss");
  }
}
