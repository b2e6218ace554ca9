package io.foley4j;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.cache.TensorCache;
import io.foley4j.text.Tokenizer;
import io.foley4j.video.VideoSourceFactory;
import java.time.Duration;

/**
 * What every step of a job's pipeline reads and nothing changes: built once when the engine is
 * built, shared by all jobs. Pipeline classes ({@link Sampler}, {@link FeatureExtractor},
 * {@link VideoFeatures}, the cache links, {@link SegmentPipeline}) take this and a
 * {@link StageCalls} handle, never the engine.
 *
 * @param uncondText the learned empty text features [maxTokens × textDim], or null if the bundle has none
 * @param decoderThreads threads one video's decoder may use
 * @param resultCache null: none
 * @param featureCache null: none
 * @param segmentMemoryBytes the builder's per-segment device memory charge, 0 for the estimate from the bundle
 * @param maxPicturePixels the largest picture (width × height) a job's video may have
 */
record PipelineConfig(BundleManifest manifest, Tokenizer tokenizer, float[] uncondVisual, float[] uncondSync,
    float[] uncondText, int visualBatch, int syncBatch, VideoSourceFactory videoSources, int decoderThreads,
    Duration maxVideoDuration, TensorCache resultCache, TensorCache featureCache, boolean singleFlight,
    String bundleDigest, int segmentsInFlight, long segmentMemoryBytes, long memoryBudgetBytes,
    long maxPicturePixels) {

  /**
   * Decoded pictures a source may hold at once: its reorder window (presentation order from decode
   * order; jcodec's window is at most 16 frames, H.264's and HEVC's largest decoded picture buffer).
   */
  static final int SOURCE_FRAMES = 16;

  /**
   * Decoded pictures the job's frame producer holds besides: the sampler's current and next frame,
   * the last visual and sync frames it sampled, and the frame being decoded and copied.
   */
  static final int SAMPLER_FRAMES = 5;

  /** Bytes of one decoded picture as {@code DecodedFrame} holds it: 8-bit Y, U and V planes, 4:2:0. */
  static long pictureBytes(int width, int height) {
    long chroma = ((width + 1L) / 2) * ((height + 1L) / 2);
    return (long) width * height + 2 * chroma;
  }

  /** The configuration of an engine built with {@code c}. */
  static PipelineConfig of(EngineCore.Config c) {
    ModelBundle bundle = c.bundle();
    var uncond = bundle.unconditional();
    // the decode threads shared among the jobs that may decode at once
    int decoderThreads = Math.max(1, c.decodeThreads() / Math.min(c.decodeThreads(), c.maxConcurrentRequests()));
    return new PipelineConfig(bundle.manifest(), bundle.tokenizer(), uncond.visual(), uncond.sync(),
        uncond.text().orElse(null), c.visualBatch(), c.syncBatch(), c.videoSources(), decoderThreads,
        c.maxVideoDuration(), c.resultCache(), c.featureCache(), c.singleFlight(), bundle.digest(),
        c.segmentsInFlight(), c.segmentMemoryBytes(), c.memoryBudgetBytes(), c.maxPicturePixels());
  }

  /** This configuration with another video source. */
  PipelineConfig withVideoSources(VideoSourceFactory other) {
    return new PipelineConfig(manifest, tokenizer, uncondVisual, uncondSync, uncondText, visualBatch, syncBatch, other,
        decoderThreads, maxVideoDuration, resultCache, featureCache, singleFlight, bundleDigest, segmentsInFlight,
        segmentMemoryBytes, memoryBudgetBytes, maxPicturePixels);
  }

  /** Whether jobs need a content key (to look up caches or share identical computations). */
  boolean keyed() {
    return resultCache != null || featureCache != null || singleFlight;
  }

  /** Identifies how frames are decoded: another decoder may give other pixels, hence other features. */
  String videoSourceName() {
    return videoSources.id();
  }

  /**
   * Bytes of host memory a job holds while it runs with {@code inFlight} segments at once, from the
   * bundle's shapes, the video's length and its picture size (docs/scheduling.md, "Memory admission").
   *
   * @param pictureBytes one decoded picture of the video ({@link #pictureBytes(int, int)}), 0 when the
   *     job decodes nothing (its features come from the cache)
   */
  long memoryNeed(SegmentPlan plan, int inFlight, long pictureBytes) {
    return memoryNeed(plan, inFlight, pictureBytes, 1);
  }

  /**
   * {@link #memoryNeed(SegmentPlan, int, long)} for a request of {@code variants} variants: the
   * frames, encoder batches and features are the request's once; each variant adds its latents, its
   * decoded segments, its result and its chunks, and the conditioning of a denoiser item is repeated
   * for every variant.
   */
  long memoryNeed(SegmentPlan plan, int inFlight, long pictureBytes, int variants) {
    BundleManifest m = manifest;
    long visualFrame = 3L * m.visual().size() * m.visual().size() * 4;
    long syncFrame = 3L * m.sync().size() * m.sync().size() * 4;
    SegmentPlan.Segment big = plan.largest();
    // sync frames held: for each of up to three passes that overlap at a time, the frames from its
    // next unpacked window on (a window plus a batch of strides), plus a batch being packed
    long syncKept = 3L * (m.sync().window() + (long) syncBatch * m.sync().stride()) + (long) syncBatch * m.sync().window();
    // packed batches submitted to the encoders and not yet taken apart (FeatureExtractor.PIPELINE)
    long inFlightBatches = FeatureExtractor.PIPELINE
        * Math.max(visualBatch * visualFrame, (long) syncBatch * m.sync().window() * syncFrame);
    // features and latents: the segments in flight, one taken before it starts and one being stitched
    long segs = inFlight + 2L;
    long featureRow = (big.visualFrames() * m.widths().visual() + (long) big.syncTokens() * m.widths().sync()) * 4L;
    long features = 2L * featureRow * segs;
    // with variants, each segment in flight also holds its conditioning repeated for the variants
    long repeated = variants > 1 ? 2L * featureRow * variants * inFlight : 0;
    long latents = 2L * segs * m.latent().channels() * big.latents() * 4 * variants;
    // the result, the chunks (kept for single-flight joiners) and the decoded segments waiting to be stitched
    long audio = (2 * plan.totalSamples * 4 + segs * big.decodedSamples() * 4) * variants;
    // the decoded pictures at the video's own size: the source's reorder window and the producer's
    long frames = (long) (SOURCE_FRAMES + SAMPLER_FRAMES) * pictureBytes;
    return visualBatch * visualFrame + syncKept * syncFrame + inFlightBatches + features + repeated + latents + audio
        + frames;
  }

  /**
   * Segments a job keeps in flight: {@code segmentsInFlight}, no more than it has, and fewer when
   * the host memory budget holds only fewer (down to one).
   */
  int segmentsInFlight(SegmentPlan plan, long pictureBytes) {
    return segmentsInFlight(plan, pictureBytes, 1);
  }

  /** {@link #segmentsInFlight(SegmentPlan, long)} for a request of {@code variants} variants. */
  int segmentsInFlight(SegmentPlan plan, long pictureBytes, int variants) {
    int k = Math.max(1, Math.min(segmentsInFlight, plan.count));
    while (k > 1 && memoryNeed(plan, k, pictureBytes, variants) > memoryBudgetBytes) {
      k--;
    }
    return k;
  }
}
