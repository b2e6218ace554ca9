package io.foley4j.pipeline;

import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyListener;
import io.foley4j.FoleyRequest;
import io.foley4j.backend.Backend;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Safetensors;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.TensorSpec;
import io.foley4j.text.Tokenizer;
import io.foley4j.video.VideoSourceFactory;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine behind {@link io.foley4j.FoleyEngine}: loaded stages, tokenizer, unconditional
 * embeddings, and the request and decode pools. Internal; not part of the API.
 */
public final class EngineCore implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("io.foley4j.pipeline");

  /** Everything the builder decided. */
  public record Config(String name, ModelBundle bundle, Backend backend, VideoSourceFactory videoSources,
      int maxConcurrentRequests, int visualBatch, int syncBatch, Duration closeTimeout) {}

  private final Config config;
  private final BundleManifest manifest;
  private final BackendRunner runner;
  private final Tokenizer tokenizer;
  private final float[] uncondVisual;
  private final float[] uncondSync;
  private final ThreadPoolExecutor requests;
  private final ThreadPoolExecutor decode;
  private final AtomicLong ids = new AtomicLong();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final java.util.Set<Job> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean abortOnClose;

  /** Loads every stage, checks it against the manifest and warms it up; ready when it returns. */
  public EngineCore(Config config) {
    this.config = config;
    ModelBundle bundle = config.bundle();
    this.manifest = bundle.manifest();
    this.tokenizer = Tokenizer.fromJson(bundle.tokenizerFile());
    Safetensors.Contents uncond = Safetensors.read(bundle.unconditionalFile());
    this.uncondVisual = vector(uncond, "visual", manifest.visualDim());
    this.uncondSync = vector(uncond, "sync", manifest.syncDim());
    Map<Stage, StageSession> sessions = new EnumMap<>(Stage.class);
    try {
      for (Stage s : Stage.values()) {
        sessions.put(s, config.backend().open(manifest.stage(s), bundle.stageFile(s)));
      }
      this.runner = new BackendRunner(sessions);
      warmUp();
    } catch (RuntimeException | Error e) {
      sessions.values().forEach(StageSession::close);
      throw e;
    }
    this.requests = pool(config.maxConcurrentRequests(), "request");
    // two tasks per running job: the frame producer and the encoder feeding it to the backend
    this.decode = pool(2 * config.maxConcurrentRequests(), "decode");
  }

  private static float[] vector(Safetensors.Contents c, String name, int dim) {
    Safetensors.Tensor t;
    try {
      t = c.tensor(name);
    } catch (RuntimeException e) {
      throw new io.foley4j.InvalidBundleException("unconditional embeddings lack tensor \"" + name + "\"", e);
    }
    if (t == null || t.size() != dim) {
      throw new io.foley4j.InvalidBundleException("unconditional embedding \"" + name + "\" must hold " + dim
          + " float32 values, found " + (t == null ? "none" : t.toString()));
    }
    return t.floats();
  }

  /** One call per stage with zeros, so the first request does not pay for lazy initialisation. */
  private void warmUp() {
    for (Stage s : Stage.values()) {
      int batch = s == Stage.DENOISER ? 2 : 1;
      Map<String, Tensor> in = new HashMap<>();
      for (TensorSpec t : manifest.stage(s).inputs()) {
        long[] shape = t.shape();
        shape[0] = batch;
        int n = Math.toIntExact(t.itemElements() * batch);
        in.put(t.name(), t.dtype().equals("int64") ? Tensor.ofLongs(new long[n], shape) : Tensor.of(new float[n], shape));
      }
      runner.run(s, in, null, null);
    }
  }

  private ThreadPoolExecutor pool(int threads, String role) {
    AtomicInteger n = new AtomicInteger();
    ThreadFactory f = r -> {
      Thread t = new Thread(r, "foley-" + config.name() + "-" + role + "-" + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    };
    return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), f);
  }

  public FoleyJob submit(FoleyRequest request, FoleyListener listener) {
    java.util.Objects.requireNonNull(request, "request");
    Job job = new Job(ids.incrementAndGet(), request, listener);
    if (closing.get()) {
      job.fail(new FoleyException(FoleyException.Code.CLOSED, "engine " + config.name() + " is closed; build a new one"));
      return job;
    }
    live.add(job);
    job.result().whenComplete((r, e) -> live.remove(job));
    try {
      requests.execute(new RequestRun(this, job));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      job.fail(new FoleyException(FoleyException.Code.CLOSED, "engine " + config.name() + " is closed; build a new one"));
    }
    return job;
  }

  BundleManifest manifest() {
    return manifest;
  }

  BackendRunner runner() {
    return runner;
  }

  Tokenizer tokenizer() {
    return tokenizer;
  }

  VideoSourceFactory videoSources() {
    return config.videoSources();
  }

  ExecutorService decodePool() {
    return decode;
  }

  int visualBatch() {
    return config.visualBatch();
  }

  int syncBatch() {
    return config.syncBatch();
  }

  float[] unconditionalVisual() {
    return uncondVisual;
  }

  float[] unconditionalSync() {
    return uncondSync;
  }

  boolean isClosing() {
    return closing.get();
  }

  boolean abortOnClose() {
    return abortOnClose;
  }

  /** Nanoseconds spent inside the runtime by all stages so far. */
  public long runtimeNanos() {
    return runner.runtimeNanos();
  }

  /** Jobs submitted and not yet completed. */
  public int liveJobs() {
    return live.size();
  }

  /**
   * Stops accepting jobs, lets running and queued jobs finish within the close timeout, then fails
   * what is left with CLOSED, stops all threads and releases the sessions. Idempotent.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    requests.shutdown();
    try {
      if (!requests.awaitTermination(config.closeTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        abortOnClose = true;
        for (Job j : List.copyOf(live)) {
          j.fail(new FoleyException(FoleyException.Code.CLOSED, "engine " + config.name()
              + " closed before job " + j.id() + " finished (close timeout " + config.closeTimeout() + ")"));
        }
        requests.shutdownNow();
        requests.awaitTermination(1, TimeUnit.MINUTES);
      }
      decode.shutdown();
      if (!decode.awaitTermination(1, TimeUnit.MINUTES)) {
        decode.shutdownNow();
        LOG.log(System.Logger.Level.WARNING, "decode threads of engine " + config.name() + " did not stop in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      requests.shutdownNow();
      decode.shutdownNow();
    } finally {
      for (Job j : List.copyOf(live)) {
        j.fail(new FoleyException(FoleyException.Code.CLOSED, "engine " + config.name() + " closed"));
      }
      runner.close();
    }
  }
}
