package io.foley4j.pipeline;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.Progress;
import io.foley4j.StageTimings;
import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Stage;
import io.foley4j.text.Encoding;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs one job: opens the video, starts its feature extraction on the decode pool, encodes the
 * prompts, then per segment runs the flow-matching sampler with classifier-free guidance (the
 * conditional and unconditional halves as one batch of two), decodes the latent to audio, stitches
 * it, and emits the chunk that became final.
 */
final class RequestRun implements Runnable, Comparable<RequestRun> {
  private final EngineCore engine;
  private final Job job;

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
    engine.events().queueEnd(job.id(), started - job.submittedNanos);
    try {
      execute();
    } catch (StopJob e) {
      // already completed (cancelled or failed elsewhere)
    } catch (FoleyException e) {
      job.fail(e);
    } catch (RuntimeException e) {
      job.fail(new FoleyException(FoleyException.Code.INTERNAL, "job " + job.id() + " failed unexpectedly: " + e, e));
    } catch (Error e) {
      job.fail(new FoleyException(FoleyException.Code.INTERNAL, "job " + job.id() + " failed: " + e, e));
      if (e instanceof VirtualMachineError) {
        throw e;
      }
    } finally {
      engine.finished(this);
    }
  }

  /** Runs the job to completion (or throws). */
  private void execute() {
    if (job.isDone()) {
      return;
    }
    checkLive();
    BundleManifest m = engine.manifest();
    FoleyRequest req = job.request();
    int steps = req.steps().orElse(m.sampler().steps());
    float cfg = (float) req.cfgScale().orElse(m.sampler().cfgScale());
    String neg = req.negativePrompt() != null ? req.negativePrompt() : m.sampler().negativePrompt();
    boolean guided = cfg != 1f;

    long t0 = System.nanoTime();
    VideoSource source = engine.videoSources().open(req.video());
    VideoInfo info;
    SegmentPlan plan;
    try {
      info = source.info();
      job.clock.add(Phase.DECODE, System.nanoTime() - t0);
      long total = SegmentPlan.samplesFor(info.durationTicks(), info.durationTimescale(), m.sampleRate());
      if (total <= 0) {
        throw new io.foley4j.UnsupportedVideoException(FoleyException.Code.CORRUPT_VIDEO,
            "video " + req.video() + " has zero duration; nothing to generate");
      }
      plan = new SegmentPlan(m, total);
    } catch (RuntimeException e) {
      source.close();
      throw e;
    }
    long need = engine.memoryNeed(plan);
    try {
      engine.admit(job, need);
    } catch (RuntimeException e) {
      source.close();
      throw e;
    }
    try {
      generate(plan, source, steps, cfg, neg, guided);
    } finally {
      engine.release(need);
    }
  }

  private void generate(SegmentPlan plan, VideoSource source, int steps, float cfg, String neg, boolean guided) {
    BundleManifest m = engine.manifest();
    FoleyRequest req = job.request();
    BlockingQueue<Object> features = new ArrayBlockingQueue<>(2);
    FeatureExtractor fx = new FeatureExtractor(engine, job, plan, source, features, engine.visualBatch(),
        engine.syncBatch());
    fx.start(engine.decodePool());

    // Text: conditional prompt and negative prompt as one batch.
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
        audio = engine.call(job, Stage.VAE_DECODER, Phase.VAE, Map.of("latents", Tensor.of(x, 1, c, l)), 1, k, -1)
            .get("audio").floats();
      } finally {
        engine.scheduler().exit(Stage.VAE_DECODER);
      }
      AudioChunk chunk = stitcher.add(k, audio);
      chunk.samples().get(result, (int) chunk.sampleOffset(), chunk.length());
      job.chunk(chunk);
      job.progress(new Progress(k + 1, plan.count, (long) (k + 1) * steps, stepsTotal));
    }
    job.clock.add(Phase.TOTAL, System.nanoTime() - job.submittedNanos);
    StageTimings timings = job.clock.snapshot();
    job.complete(new FoleyResult(req, result, m.sampleRate(), timings));
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
      float[] v = engine.call(job, Stage.DENOISER, Phase.DENOISE, in, batch, k, s).get("velocity").floats();
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
      job.progress(new Progress(k, segments, (long) k * steps + s + 1, stepsTotal));
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
      out = engine.call(job, Stage.TEXT_ENCODER, Phase.TEXT, in, batch, -1, -1).get("text_embeds");
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

  /** Stops the job's work if it was cancelled or failed elsewhere. */
  private void checkLive() {
    if (job.isDone()) {
      throw new StopJob();
    }
    FoleyException stop = job.stopReason();
    if (stop != null) {
      throw stop;
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
