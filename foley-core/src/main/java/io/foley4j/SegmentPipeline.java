package io.foley4j;

import io.foley4j.backend.Tensor;
import java.util.ArrayDeque;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * The segments of one job, up to {@code inFlight} at once (docs/scheduling.md, "Segments in
 * flight"): each segment is placed on a device ({@link Devices#acquire}), sampled and decoded
 * there on a thread of the engine's segment pool, while the job's own thread takes the features in
 * order, starts the next segment as soon as an earlier one is done, and stitches and emits the
 * chunks in order. With one in flight everything runs on the job's thread, one segment after
 * another.
 *
 * <p>Earlier segments go first: their work items are more urgent in every device's queue, and
 * their placement is served before later ones. The first segment runs alone (its chunk comes as
 * soon as with one segment in flight); from its chunk on, up to {@code inFlight} run. Progress counts steps of all segments under one
 * monitor, so it never goes backwards.
 *
 * <p>When anything fails (a segment, the job stopping, an interrupt) the other segments stop at
 * their next step, and the job's thread returns (or throws) only after every segment it started
 * has ended, so nothing of the job outlives its memory reservation.
 */
final class SegmentPipeline {
  private final PipelineConfig pipeline;
  private final Devices devices;
  private final java.util.concurrent.ExecutorService segmentPool;
  private final Flight flight;
  private final StageCalls home;
  private final SegmentPlan plan;
  private final FeatureStream features;
  private final Sampler.Settings settings;
  private final int inFlight;
  private final Runnable checkLive;
  private final Object progressLock = Monitor.outer("job progress");
  private long stepsDone; // guarded by progressLock
  private int segmentsDone; // guarded by progressLock
  // the first failure of any segment or of the job's thread: the other segments stop at their next step
  private final java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();

  /**
   * @param home the job's calls on its home device (text)
   * @param segmentPool where segments run when more than one is in flight
   */
  SegmentPipeline(PipelineConfig pipeline, Devices devices, java.util.concurrent.ExecutorService segmentPool,
      Flight flight, StageCalls home, FeatureStream features, Sampler.Settings settings, int inFlight,
      Runnable checkLive) {
    this.pipeline = pipeline;
    this.devices = devices;
    this.segmentPool = segmentPool;
    this.flight = flight;
    this.home = home;
    this.plan = features.plan();
    this.features = features;
    this.settings = settings;
    this.inFlight = inFlight;
    this.checkLive = checkLive;
  }

  /**
   * Runs every segment and returns the stitched audio of each variant, emitting each chunk as it
   * becomes final (segment by segment; within a segment, variant by variant).
   */
  float[][] run(String prompt, boolean requestHasNegative) {
    Sampler sampler = new Sampler(pipeline, settings, home, this::check, this::stepDone);
    Tensor text = sampler.encodeText(prompt, requestHasNegative);
    int n = settings.variants();
    float[][] result = new float[n][Math.toIntExact(plan.totalSamples)];
    Stitcher[] stitchers = new Stitcher[n];
    for (int v = 0; v < n; v++) {
      stitchers[v] = new Stitcher(plan, pipeline.manifest().audio().sampleRate(), v);
    }
    ArrayDeque<Future<float[][]>> running = new ArrayDeque<>();
    int next = 0;
    try {
      for (int k = 0; k < plan.count; k++) {
        float[][] audio;
        if (inFlight == 1) {
          audio = segment(sampler, text, plan.segment(k), features.take(k, this::check));
        } else {
          // the first segment runs alone, so its chunk comes as soon as with one in flight
          for (; next < plan.count && next < k + (k == 0 ? 1 : inFlight); next++) {
            SegmentFeatures sf = features.take(next, this::check);
            SegmentPlan.Segment seg = plan.segment(next);
            running.add(start(() -> {
              try {
                return segment(sampler, text, seg, sf);
              } catch (Throwable t) {
                failure.compareAndSet(null, t);
                throw t;
              }
            }));
          }
          audio = await(running.peek()); // stays listed until done, so an interrupt here still waits for it
          running.poll();
        }
        check();
        for (int v = 0; v < n; v++) {
          AudioChunk chunk = stitchers[v].add(k, audio[v]);
          chunk.samples().get(result[v], (int) chunk.sampleOffset(), chunk.length());
          flight.chunk(chunk);
        }
        segmentDone();
        if (k == 0) {
          flight.segmentsInFlight(inFlight); // from now on the next segments' encoder work comes first
        }
      }
      return result;
    } catch (RuntimeException | Error e) {
      if (!failure.compareAndSet(null, e)) {
        Throwable first = failure.get();
        if (e instanceof RequestRun.StopJob && first != e) { // stopped because another segment failed first
          if (first instanceof RuntimeException r) {
            throw r;
          }
          throw (Error) first;
        }
      }
      throw e;
    } finally {
      if (!running.isEmpty()) {
        failure.compareAndSet(null, new RequestRun.StopJob());
        awaitAll(running);
      }
    }
  }

  /** Samples and decodes one segment of every variant on the device it is placed on. */
  private float[][] segment(Sampler sampler, Tensor text, SegmentPlan.Segment seg, SegmentFeatures sf) {
    long bytes = Devices.segmentBytes(pipeline.manifest(), seg, settings, pipeline.segmentMemoryBytes());
    try (Devices.Lease lease = devices.acquire(flight, seg.index(), bytes, this::check)) {
      StageCalls there = home.on(lease.scheduler());
      float[][] latents = sampler.sample(seg, sampler.condition(text, sf, seg), there);
      check();
      return sampler.decode(seg, latents, there);
    }
  }

  private Future<float[][]> start(java.util.concurrent.Callable<float[][]> task) {
    try {
      return segmentPool.submit(task);
    } catch (RejectedExecutionException e) {
      throw new FoleyException(FoleyException.Code.CLOSED, "engine closed before job " + flight.id() + " finished", e);
    }
  }

  /** The segment's audio, or its failure as thrown; an interrupt stops the job's other segments. */
  private float[][] await(Future<float[][]> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FoleyException(FoleyException.Code.CANCELLED, "job " + flight.id() + " was interrupted", e);
    } catch (CancellationException e) {
      throw new FoleyException(FoleyException.Code.CLOSED, "engine closed before job " + flight.id() + " finished", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException r) {
        throw r;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new FoleyException(FoleyException.Code.INTERNAL, "segment of job " + flight.id() + " failed: " + c, c);
    }
  }

  /** Waits, through interrupts (restored after), for every segment still running to end. */
  private static void awaitAll(ArrayDeque<Future<float[][]>> running) {
    boolean interrupted = false;
    for (Future<float[][]> f : running) {
      while (true) {
        try {
          f.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException | CancellationException e) {
          break; // its failure came after the first, which is what the job reports
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The job's liveness check, and a stop when another segment of the job failed. */
  private void check() {
    checkLive.run();
    if (failure.get() != null) {
      throw new RequestRun.StopJob();
    }
  }

  private void stepDone() {
    synchronized (progressLock) {
      assert LockOrder.taken(progressLock);
      stepsDone++;
      flight.enqueueProgress(progress());
    }
    flight.deliver();
  }

  private void segmentDone() {
    synchronized (progressLock) {
      assert LockOrder.taken(progressLock);
      segmentsDone++;
      flight.enqueueProgress(progress());
    }
    flight.deliver();
  }

  private Progress progress() {
    return new Progress(segmentsDone, plan.count, stepsDone, (long) settings.steps() * plan.count);
  }
}
