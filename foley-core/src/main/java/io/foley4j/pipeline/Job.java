package io.foley4j.pipeline;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyListener;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.Progress;
import io.foley4j.schedule.DeviceScheduler;
import io.foley4j.schedule.Ticker;
import java.util.concurrent.CompletableFuture;

/**
 * A job's state and its listener, guarded so that the future completes once, no event follows
 * completion, and listener calls never overlap. A throwing listener is logged and ignored.
 */
final class Job implements FoleyJob, DeviceScheduler.Owner {
  private static final System.Logger LOG = System.getLogger("io.foley4j.pipeline");

  private final long id;
  private final FoleyRequest request;
  private final FoleyListener listener;
  private final CompletableFuture<FoleyResult> future = new CompletableFuture<>();
  private final CompletableFuture<FoleyResult> view = future.copy();
  private final Ticker ticker;
  private final long deadlineNanos; // Long.MAX_VALUE: none
  final long submittedNanos = System.nanoTime();
  final long submittedTicks;
  final PhaseClock clock = new PhaseClock();
  private boolean done;
  private volatile boolean finished;
  private volatile boolean cancelled;
  private boolean listenerWarned;
  private final ChunkPublisher publisher = new ChunkPublisher();

  Job(long id, FoleyRequest request, FoleyListener listener, Ticker ticker) {
    this.id = id;
    this.request = request;
    this.listener = listener == null ? FoleyListener.NONE : listener;
    this.ticker = ticker;
    this.submittedTicks = ticker.nanos();
    this.deadlineNanos = request.deadline().map(d -> submittedTicks + d.toNanos()).orElse(Long.MAX_VALUE);
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  public FoleyRequest request() {
    return request;
  }

  @Override
  public CompletableFuture<FoleyResult> result() {
    return view;
  }

  @Override
  public boolean cancel() {
    return finish(null, new FoleyException(FoleyException.Code.CANCELLED, "job " + id + " was cancelled"), true);
  }

  /** Runs {@code r} once the job is done, whatever completes the caller's view of the future. */
  void whenDone(Runnable r) {
    future.whenComplete((x, e) -> r.run());
  }

  boolean failedOrCancelled() {
    return future.isCompletedExceptionally();
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  // ---- DeviceScheduler.Owner -------------------------------------------------------------------

  @Override
  public int priority() {
    return request.priority().ordinal();
  }

  @Override
  public long sequence() {
    return id;
  }

  @Override
  public FoleyException stopReason() {
    if (finished) {
      return new RequestRun.StopJob();
    }
    if (deadlineNanos != Long.MAX_VALUE && ticker.nanos() - deadlineNanos > 0) {
      return deadlineExceeded();
    }
    return null;
  }

  FoleyException deadlineExceeded() {
    return new FoleyException(FoleyException.Code.DEADLINE_EXCEEDED, "job " + id + " passed its deadline of "
        + request.deadline().orElseThrow() + " after submission; its work was stopped");
  }

  /** True once the job completed, failed or was cancelled: its work should stop. */
  boolean isDone() {
    return finished;
  }

  synchronized void chunk(AudioChunk c) {
    if (!done) {
      guard(() -> listener.onChunk(c), "onChunk");
      publisher.emit(c);
    }
  }

  @Override
  public java.util.concurrent.Flow.Publisher<AudioChunk> chunks() {
    return publisher;
  }

  synchronized void progress(Progress p) {
    if (!done) {
      guard(() -> listener.onProgress(p), "onProgress");
    }
  }

  boolean complete(FoleyResult r) {
    return finish(r, null, false);
  }

  boolean fail(FoleyException e) {
    return finish(null, e, false);
  }

  private boolean finish(FoleyResult r, FoleyException e, boolean cancel) {
    synchronized (this) {
      if (done) {
        return false;
      }
      done = true;
      finished = true;
      cancelled = cancel;
      if (r != null) {
        guard(() -> listener.onComplete(r), "onComplete");
      } else {
        guard(() -> listener.onFailure(e), "onFailure");
      }
    }
    // completion callbacks (the caller's and the engine's) run without this job's lock
    if (r != null) {
      publisher.complete();
      future.complete(r);
    } else {
      publisher.fail(e);
      future.completeExceptionally(e);
    }
    return true;
  }

  private void guard(Runnable r, String what) {
    try {
      r.run();
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
      if (!listenerWarned) {
        listenerWarned = true;
        LOG.log(System.Logger.Level.WARNING, "listener " + what + " of job " + id
            + " threw; ignoring it (logged once per job)", e);
      }
    }
  }

  @Override
  public String toString() {
    return "FoleyJob[" + id + ", " + request + "]";
  }
}
