package io.foley4j.pipeline;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.Progress;
import io.foley4j.StageTimings;
import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Safetensors;
import io.foley4j.bundle.Stage;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.TensorCache;
import io.foley4j.text.Encoding;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs one job: finds its result in the result cache, or joins an identical computation already in
 * flight, or computes it: opens the video (or finds every segment's features in the feature cache),
 * starts feature extraction on the decode pool, encodes the prompts, then per segment runs the
 * flow-matching sampler with classifier-free guidance (conditional and unconditional halves as one
 * batch of two), decodes the latent to audio, stitches it and emits the chunk that became final.
 */
final class RequestRun implements Runnable, Comparable<RequestRun> {
  private final EngineCore engine;
  private final Job job;
  private Flight flight;
  // the container's duration, stored with computed features so a later hit needs no video
  private long durationTicks;
  private long durationTimescale;

  RequestRun(EngineCore engine, Job job) {
    this.engine = engine;
    this.job = job;
  }

  /** Queue order of jobs waiting to start: priority, then submission. */
  @Override
  public int compareTo(RequestRun o) {
    int c = Integer.compare(job.priority(), o.job.priority());
    return c != 0 ? c : Long.compare(job.sequence(), o.job.sequence());
  }

  Job job() {
    return job;
  }

  @Override
  public void run() {
    engine.started(this);
    long started = System.nanoTime();
    job.clock.add(Phase.QUEUE_WAIT, started - job.submittedNanos);
    EngineCore.guard(() -> engine.events().queueEnd(job.id(), started - job.submittedNanos));
    try {
      execute();
    } catch (StopJob e) {
      // every job of the flight is already done (cancelled or failed elsewhere)
      end();
    } catch (FoleyException e) {
      failAll(e);
    } catch (RuntimeException e) {
      failAll(new FoleyException(FoleyException.Code.INTERNAL, "job " + job.id() + " failed unexpectedly: " + e, e));
    } catch (Error e) {
      failAll(new FoleyException(FoleyException.Code.INTERNAL, "job " + job.id() + " failed: " + e, e));
      if (e instanceof VirtualMachineError) {
        throw e;
      }
    } finally {
      engine.finished(this);
    }
  }

  private void failAll(FoleyException e) {
    end();
    if (flight != null) {
      flight.fail(e);
    } else {
      job.fail(e);
    }
  }

  /** Takes the flight out of the single-flight table, so later identical requests start afresh. */
  private void end() {
    if (flight != null) {
      engine.endFlight(flight);
    }
  }

  /** Runs the job to completion (or throws). */
  private void execute() {
    if (job.isDone()) {
      return;
    }
    FoleyException expired = job.stopReason();
    if (expired != null) {
      throw expired;
    }
    BundleManifest m = engine.manifest();
    FoleyRequest req = job.request();
    int steps = req.steps().orElse(m.sampler().steps());
    float cfg = (float) req.cfgScale().orElse(m.sampler().cfgScale());
    String neg = req.negativePrompt() != null ? req.negativePrompt() : m.sampler().negativePrompt();

    String videoDigest = null;
    if (engine.keyed()) {
      long t0 = System.nanoTime();
      videoDigest = CacheKeys.videoDigest(req.video());
      job.clock.add(Phase.DECODE, System.nanoTime() - t0);
      String key = CacheKeys.result(engine.bundleDigest(), engine.videoSourceName(), videoDigest, req.prompt(), neg,
          steps, cfg, req.seed());
      flight = engine.singleFlight() ? engine.joinOrLead(key, job) : new Flight(key, job);
      if (flight == null) {
        return; // an identical computation in flight serves this job
      }
      if (serveCachedResult(key)) {
        return;
      }
    } else {
      flight = new Flight(null, job);
    }
    compute(videoDigest, steps, cfg, neg);
  }

  private boolean serveCachedResult(String key) {
    TensorCache cache = engine.resultCache();
    if (cache == null) {
      return false;
    }
    CacheEntry e = cache.get(key);
    BundleManifest m = engine.manifest();
    if (e == null || e.tensor("audio") == null
        || !String.valueOf(m.sampleRate()).equals(e.metadata().get("sampleRate"))) {
      return false;
    }
    float[] audio = e.tensor("audio").floats();
    if (audio.length == 0) {
      return false;
    }
    SegmentPlan plan = new SegmentPlan(m, audio.length);
    for (int k = 0; k < plan.count; k++) {
      long start = plan.sampleStart(k);
      long end = plan.chunkEnd(k);
      flight.chunk(new AudioChunk(k, start, java.util.Arrays.copyOfRange(audio, (int) start, (int) end), m.sampleRate(),
          k == plan.count - 1));
    }
    job.clock.add(Phase.TOTAL, System.nanoTime() - job.submittedNanos);
    end();
    flight.complete(audio, m.sampleRate(), job.clock.snapshot(true));
    return true;
  }

  private void compute(String videoDigest, int steps, float cfg, String neg) {
    BundleManifest m = engine.manifest();
    FoleyRequest req = job.request();
    Cached cached = cachedFeatures(videoDigest);
    VideoSource source = null;
    SegmentPlan plan;
    try {
      if (cached != null) {
        plan = new SegmentPlan(m, cached.totalSamples());
      } else {
        long t0 = System.nanoTime();
        source = engine.videoSources().open(req.video());
        VideoInfo info = source.info();
        job.clock.add(Phase.DECODE, System.nanoTime() - t0);
        long total;
        try {
          total = SegmentPlan.samplesFor(info.durationTicks(), info.durationTimescale(), m.sampleRate());
        } catch (ArithmeticException e) {
          total = Long.MAX_VALUE;
        }
        if (total > Integer.MAX_VALUE - 16) {
          throw new io.foley4j.UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, String.format(
              java.util.Locale.ROOT, "video %s lasts %.1f hours; one request can produce at most %.1f hours of audio "
                  + "at %d Hz: split the video", req.video(), info.durationSeconds() / 3600,
              (Integer.MAX_VALUE - 16) / (double) m.sampleRate() / 3600, m.sampleRate()));
        }
        if (total <= 0) {
          throw new io.foley4j.UnsupportedVideoException(FoleyException.Code.CORRUPT_VIDEO,
              "video " + req.video() + " has zero duration; nothing to generate");
        }
        plan = new SegmentPlan(m, total);
        durationTicks = info.durationTicks();
        durationTimescale = info.durationTimescale();
      }
      long need = engine.memoryNeed(plan);
      engine.admit(flight, job, need);
      try {
        BlockingQueue<Object> features;
        if (cached != null) {
          features = new ArrayBlockingQueue<>(plan.count);
          features.addAll(java.util.Arrays.asList(cached.segments()));
        } else {
          features = new ArrayBlockingQueue<>(2);
          VideoSource owned = source;
          source = null; // from here the extractor owns it and closes it on every path
          new FeatureExtractor(engine, flight, plan, owned, features, engine.visualBatch(), engine.syncBatch())
              .start(engine.decodePool(), engine.feederPool());
        }
        generate(plan, features, cached == null ? videoDigest : null, steps, cfg, neg);
      } finally {
        engine.release(need);
      }
    } finally {
      if (source != null) {
        source.close();
      }
    }
  }

  /** Every segment's features found in the feature cache, and the audio length they imply. */
  private record Cached(long totalSamples, SegmentFeatures[] segments) {}

  /** Every segment's features from the feature cache, or null (then the video is decoded). */
  private Cached cachedFeatures(String videoDigest) {
    TensorCache cache = engine.featureCache();
    if (cache == null || videoDigest == null) {
      return null;
    }
    BundleManifest m = engine.manifest();
    CacheEntry first = cache.get(featureKey(videoDigest, 0));
    if (first == null) {
      return null;
    }
    try {
      long ticks = Long.parseLong(first.metadata().get("durationTicks"));
      long scale = Long.parseLong(first.metadata().get("durationTimescale"));
      long total = SegmentPlan.samplesFor(ticks, scale, m.sampleRate());
      SegmentPlan plan = new SegmentPlan(m, total);
      SegmentFeatures[] out = new SegmentFeatures[plan.count];
      for (int k = 0; k < plan.count; k++) {
        CacheEntry e = k == 0 ? first : cache.get(featureKey(videoDigest, k));
        if (e == null || e.tensor("visual") == null || e.tensor("sync") == null) {
          return null;
        }
        float[] v = e.tensor("visual").floats();
        float[] s = e.tensor("sync").floats();
        if (v.length != plan.visualPerSegment * m.visualDim() || s.length != m.syncTokensPerSegment() * m.syncDim()) {
          return null;
        }
        out[k] = new SegmentFeatures(k, v, s);
      }
      return new Cached(total, out);
    } catch (RuntimeException bad) { // a malformed entry is a miss
      return null;
    }
  }

  private String featureKey(String videoDigest, int k) {
    return CacheKeys.features(engine.bundleDigest(), engine.videoSourceName(), videoDigest, k);
  }

  private void storeFeatures(String videoDigest, SegmentFeatures sf, SegmentPlan plan) {
    TensorCache cache = engine.featureCache();
    if (cache == null || videoDigest == null) {
      return;
    }
    BundleManifest m = engine.manifest();
    cache.put(featureKey(videoDigest, sf.index()), CacheEntry.of(Map.of(
        "visual", Safetensors.Tensor.f32(sf.visual(), plan.visualPerSegment, m.visualDim()),
        "sync", Safetensors.Tensor.f32(sf.sync(), m.syncTokensPerSegment(), m.syncDim())), Map.of(
        "durationTicks", Long.toString(durationTicks), "durationTimescale", Long.toString(durationTimescale),
        "segment", Integer.toString(sf.index()), "bundle", engine.bundleDigest())));
  }

  private void generate(SegmentPlan plan, BlockingQueue<Object> features, String storeFeaturesFor, int steps,
      float cfg, String neg) {
    BundleManifest m = engine.manifest();
    FoleyRequest req = job.request();
    boolean guided = cfg != 1f;
    Tensor text = encodeText(m, req.prompt(), neg, guided);

    float[] result = new float[Math.toIntExact(plan.totalSamples)];
    Stitcher stitcher = new Stitcher(plan, m.sampleRate());
    int c = m.latentChannels();
    int l = m.latentLength();
    int latentSize = c * l;
    float[] times = FlowSchedule.times(steps, m.sampler().shift());
    long stepsTotal = (long) steps * plan.count;
    int batch = guided ? 2 : 1;
    float[] uncondVisual = engine.unconditionalVisual();
    float[] uncondSync = engine.unconditionalSync();

    for (int k = 0; k < plan.count; k++) {
      SegmentFeatures sf = takeFeatures(features, k);
      if (storeFeaturesFor != null) {
        storeFeatures(storeFeaturesFor, sf, plan);
      }
      float[] visual = stack(sf.visual(), uncondVisual, batch);
      float[] sync = stack(sf.sync(), uncondSync, batch);
      Tensor visualT = Tensor.of(visual, batch, plan.visualPerSegment, m.visualDim());
      Tensor syncT = Tensor.of(sync, batch, m.syncTokensPerSegment(), m.syncDim());

      float[] x = noise(req.seed(), k, latentSize);
      engine.scheduler().enter(Stage.DENOISER);
      try {
        denoise(x, k, steps, times, cfg, batch, visualT, syncT, text, plan.count);
      } finally {
        engine.scheduler().exit(Stage.DENOISER);
      }
      checkLive();
      engine.scheduler().enter(Stage.VAE_DECODER);
      float[] audio;
      try {
        audio = engine.call(flight, Stage.VAE_DECODER, Phase.VAE, Map.of("latents", Tensor.of(x, 1, c, l)), 1, k, -1)
            .get("audio").floats();
      } finally {
        engine.scheduler().exit(Stage.VAE_DECODER);
      }
      AudioChunk chunk = stitcher.add(k, audio);
      chunk.samples().get(result, (int) chunk.sampleOffset(), chunk.length());
      flight.chunk(chunk);
      flight.progress(new Progress(k + 1, plan.count, (long) (k + 1) * steps, stepsTotal));
    }
    TensorCache rc = engine.resultCache();
    if (rc != null && flight.key != null) {
      rc.put(flight.key, CacheEntry.of(Map.of("audio", Safetensors.Tensor.f32(result, result.length)),
          Map.of("sampleRate", Integer.toString(m.sampleRate()), "bundle", engine.bundleDigest())));
    }
    job.clock.add(Phase.TOTAL, System.nanoTime() - job.submittedNanos);
    StageTimings timings = job.clock.snapshot(false);
    end();
    flight.complete(result, m.sampleRate(), timings);
  }

  private void denoise(float[] x, int k, int steps, float[] times, float cfg, int batch, Tensor visualT, Tensor syncT,
      Tensor text, int segments) {
    BundleManifest m = engine.manifest();
    int c = m.latentChannels();
    int l = m.latentLength();
    int latentSize = c * l;
    long stepsTotal = (long) steps * segments;
    boolean guided = batch == 2;
    for (int s = 0; s < steps; s++) {
      checkLive();
      float[] lat = new float[batch * latentSize];
      for (int b = 0; b < batch; b++) {
        System.arraycopy(x, 0, lat, b * latentSize, latentSize);
      }
      float[] ts = new float[batch];
      java.util.Arrays.fill(ts, times[s]);
      Map<String, Tensor> in = new java.util.HashMap<>();
      in.put("latents", Tensor.of(lat, batch, c, l));
      in.put("timestep", Tensor.of(ts, batch));
      in.put("visual", visualT);
      in.put("sync", syncT);
      in.put("text", text);
      float[] v = engine.call(flight, Stage.DENOISER, Phase.DENOISE, in, batch, k, s).get("velocity").floats();
      float dt = times[s + 1] - times[s];
      if (guided) {
        for (int i = 0; i < latentSize; i++) {
          float vu = v[latentSize + i];
          x[i] += dt * (vu + cfg * (v[i] - vu));
        }
      } else {
        for (int i = 0; i < latentSize; i++) {
          x[i] += dt * v[i];
        }
      }
      flight.progress(new Progress(k, segments, (long) k * steps + s + 1, stepsTotal));
    }
  }

  private Tensor encodeText(BundleManifest m, String prompt, String neg, boolean guided) {
    int n = m.maxTokens();
    int batch = guided ? 2 : 1;
    long[] ids = new long[batch * n];
    long[] mask = new long[batch * n];
    Encoding e = engine.tokenizer().encode(prompt, n);
    System.arraycopy(e.ids(), 0, ids, 0, n);
    System.arraycopy(e.attentionMask(), 0, mask, 0, n);
    if (guided) {
      Encoding u = engine.tokenizer().encode(neg, n);
      System.arraycopy(u.ids(), 0, ids, n, n);
      System.arraycopy(u.attentionMask(), 0, mask, n, n);
    }
    Map<String, Tensor> in = Map.of("input_ids", Tensor.ofLongs(ids, batch, n), "attention_mask",
        Tensor.ofLongs(mask, batch, n));
    engine.scheduler().enter(Stage.TEXT_ENCODER);
    Tensor out;
    try {
      out = engine.call(flight, Stage.TEXT_ENCODER, Phase.TEXT, in, batch, -1, -1).get("text_embeds");
    } finally {
      engine.scheduler().exit(Stage.TEXT_ENCODER);
    }
    return Tensor.of(out.floats(), batch, n, m.textDim());
  }

  private SegmentFeatures takeFeatures(BlockingQueue<Object> q, int k) {
    try {
      while (true) {
        checkLive();
        Object o = q.poll(50, TimeUnit.MILLISECONDS);
        if (o instanceof SegmentFeatures sf) {
          if (sf.index() != k) {
            throw new FoleyException(FoleyException.Code.INTERNAL, "segment " + sf.index() + " arrived, expected " + k);
          }
          return sf;
        }
        if (o instanceof FeatureExtractor.Failure f) {
          throw f.error();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FoleyException(FoleyException.Code.CANCELLED, "job " + job.id() + " was interrupted", e);
    }
  }

  /** Stops the work when no job wants it any more (cancelled, failed or past its deadline). */
  private void checkLive() {
    if (!flight.expireAndCheck()) {
      throw new StopJob();
    }
    if (engine.isClosing() && engine.abortOnClose()) {
      throw new FoleyException(FoleyException.Code.CLOSED, "engine closed before job " + job.id() + " finished");
    }
  }

  /** Conditional features followed, when guided, by the unconditional vector repeated per row. */
  private static float[] stack(float[] cond, float[] uncondRow, int batch) {
    if (batch == 1) {
      return cond;
    }
    float[] out = new float[cond.length * 2];
    System.arraycopy(cond, 0, out, 0, cond.length);
    int d = uncondRow.length;
    for (int off = cond.length; off < out.length; off += d) {
      System.arraycopy(uncondRow, 0, out, off, d);
    }
    return out;
  }

  /** Gaussian noise for segment k, a pure function of (seed, k). */
  static float[] noise(long seed, int k, int n) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + k * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  /** Unwinds a job that already completed (cancelled); never reaches the user. */
  static final class StopJob extends FoleyException {
    StopJob() {
      super(Code.CANCELLED, "job stopped");
    }
  }
}
