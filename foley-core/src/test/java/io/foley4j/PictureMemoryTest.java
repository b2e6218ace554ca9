package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.video.SyntheticVideo;
import org.junit.jupiter.api.Test;

/**
 * A job's memory need counts its decoded pictures at the video's own size, and an engine refuses
 * pictures larger than its maxPicturePixels: four 16000 × 16000 jobs once ran out of a 2 GB heap
 * in their decode threads because admission counted only the model's tensors.
 */
class PictureMemoryTest extends SmallBundleTest {
  private static SegmentPlan plan(double seconds) {
    BundleManifest m = bundle.manifest();
    return new SegmentPlan(m, SegmentPlan.samplesFor((long) (seconds * 1000), 1000, m.audio().sampleRate()));
  }

  @Test
  void aPictureIsItsYuv420Planes() {
    assertEquals(1920 * 1080 * 3 / 2, PipelineConfig.pictureBytes(1920, 1080));
    assertEquals(9 + 2 * 4, PipelineConfig.pictureBytes(3, 3), "odd sizes round the chroma planes up");
    assertEquals(384_000_000L, PipelineConfig.pictureBytes(16000, 16000));
  }

  @Test
  void theMemoryNeedCountsTheSourcesAndTheSamplersFramesAtTheVideosSize() {
    PipelineConfig p = FakeStageCalls.pipeline(bundle, 8, 2);
    SegmentPlan plan = plan(3);
    long none = p.memoryNeed(plan, 1, 0);
    long hd = p.memoryNeed(plan, 1, PipelineConfig.pictureBytes(1920, 1080));
    int frames = PipelineConfig.SOURCE_FRAMES + PipelineConfig.SAMPLER_FRAMES;
    assertEquals(21, frames);
    assertEquals((long) frames * 1920 * 1080 * 3 / 2, hd - none, "21 decoded 1080p frames");
    long huge = p.memoryNeed(plan, 1, PipelineConfig.pictureBytes(16000, 16000));
    assertTrue(huge > 1L << 30, "one 16000² job alone needs more than half of a 2 GB heap: " + huge);
    assertTrue(4 * huge > 2L << 30, "four of them can never share a 2 GB heap");
    assertTrue(none < 64L << 20, "the tensors of this small model: " + none);
  }

  @Test
  void fewerSegmentsRunInFlightWhenBigPicturesFillTheBudget() {
    PipelineConfig small = FakeStageCalls.pipeline(bundle, 8, 2);
    SegmentPlan plan = plan(40);
    long picture = PipelineConfig.pictureBytes(3840, 2160);
    long oneInFlight = small.memoryNeed(plan, 1, picture);
    PipelineConfig tight = new PipelineConfig(small.manifest(), small.tokenizer(), small.uncondVisual(),
        small.uncondSync(), small.uncondText(), 8, 2, null, 1, java.time.Duration.ofHours(1), null, null, false,
        small.bundleDigest(), 4, 0, oneInFlight, FoleyEngine.DEFAULT_MAX_PICTURE_PIXELS);
    assertTrue(plan.count > 1, "several segments: " + plan.count);
    assertEquals(1, tight.segmentsInFlight(plan, picture), "the frames leave room for one segment only");
    assertTrue(tight.segmentsInFlight(plan, 0) > 1, "without the frames, more would fit");
  }

  @Test
  void aPictureOverMaxPicturePixelsIsUnsupportedBeforeAnyFrameIsDecoded() throws Exception {
    java.util.concurrent.atomic.AtomicInteger decoded = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
    io.foley4j.video.VideoSource source = new io.foley4j.video.VideoSource() {
      @Override
      public io.foley4j.video.VideoInfo info() {
        return new io.foley4j.video.VideoInfo(16000, 16000, "mjpeg", 25, 25, 25, 24, 25);
      }

      @Override
      public io.foley4j.video.DecodedFrame next() {
        decoded.incrementAndGet();
        return null;
      }

      @Override
      public void close() {
        closed.incrementAndGet();
      }
    };
    io.foley4j.video.VideoSourceFactory huge = new io.foley4j.video.VideoSourceFactory() {
      @Override
      public io.foley4j.video.VideoSource open(java.nio.file.Path file) {
        return source;
      }

      @Override
      public io.foley4j.video.VideoSource open(java.nio.ByteBuffer bytes, int threads) {
        return source;
      }
    };
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(huge).build()) {
      FoleyException f = assertThrows(FoleyException.class,
          () -> e.submit(FoleyRequest.builder(new byte[] {0}).prompt("x").build()).await());
      assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, f.code(), f.toString());
      assertTrue(f.getMessage().contains("16000 x 16000") && f.getMessage().contains("maxPicturePixels of 67108864")
          && f.getMessage().contains("scale the video down"), f.getMessage());
      assertEquals(0, decoded.get(), "no frame was decoded");
      assertEquals(1, closed.get(), "the source was closed");
    }
    SyntheticVideo small = SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(1).build();
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(small.asFactory())
        .maxPicturePixels(64 * 48 - 1).build()) {
      FoleyException f = assertThrows(FoleyException.class,
          () -> e.submit(FoleyRequest.builder(new byte[] {0}).prompt("x").build()).await());
      assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, f.code(), f.toString());
      assertTrue(f.getMessage().contains("3072 pixels") && f.getMessage().contains("3071"), f.getMessage());
    }
    assertThrows(FoleyException.class, () -> FoleyEngine.builder().maxPicturePixels(0));
    assertThrows(IllegalStateException.class, () -> FoleyEngine.builder().maxPicturePixels(10).maxPicturePixels(20));
  }

  @Test
  void admissionRefusesAJobWhoseFramesCanNeverFit() throws Exception {
    SyntheticVideo big = SyntheticVideo.builder().size(4000, 4000).fps(25, 1).durationSeconds(2).build();
    PipelineConfig p = FakeStageCalls.pipeline(bundle, 8, 2);
    long withoutFrames = p.memoryNeed(plan(2), 1, 0);
    long budget = withoutFrames + (64L << 20); // room for the tensors, not for 21 frames of 24 MB
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(big.asFactory()).segmentsInFlight(1)
        .memoryBudgetBytes(budget).build()) {
      FoleyException f = assertThrows(FoleyException.class,
          () -> e.submit(FoleyRequest.builder(new byte[] {0}).prompt("x").build()).await());
      assertEquals(FoleyException.Code.REJECTED, f.code(), f.toString());
      assertTrue(f.getMessage().contains("memory budget") && f.getMessage().contains("lower-resolution"),
          f.getMessage());
      assertEquals(0, e.stats().memoryInUseBytes());
    }
  }
}
