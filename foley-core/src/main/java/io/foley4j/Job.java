package io.foley4j;

import java.util.concurrent.CompletableFuture;

/**
 * A job's state and its listener. State changes under a small monitor that never runs user code;
 * the effects (listener calls, subscriber signals, completing the future) go into the job's
 * {@link SerialEvents} queue and are delivered after the monitor is released, one at a time and in
 * order, by whichever thread queued them. A throwing listener is logged and ignored.
 *
 * <p>Order: chunks and progress in time order, then the end. On success the future completes after
 * every earlier callback returned and just before {@code onComplete} (so {@code result()} is done
 * inside it). A failure or cancel fails the future at once, in the thread that caused it, and
 * {@code onFailure} follows the callbacks already queued.
 */
final class Job implements FoleyJob, DeviceScheduler.Owner {
  private static final System.Logger LOG = System.getLogger("io.foley4j");

  private final long id;
  private final FoleyRequest request;
  private final FoleyListener listener;
  private final CompletableFuture<FoleyResult> future = new CompletableFuture<>();
  private final CompletableFuture<FoleyResult> view = future.copy();
  private final Ticker ticker;
  private final boolean hasDeadline;
  private final long deadlineNanos; // in ticker time, when hasDeadline
  private volatile SourceStamp source;
  final long submittedNanos = System.nanoTime();
  final long submittedTicks;
  final PhaseClock clock = new PhaseClock();
  private final SerialEvents events = new SerialEvents();
  private final Object lock = Monitor.leaf("job");
  private boolean done; // guarded by lock
  private volatile boolean finished;
  private volatile boolean cancelled;
  private volatile boolean listenerWarned;
  private final ChunkPublisher publisher;
  private final boolean warmUp;

  /** Whether this is the engine's warm-up request ({@link WarmUp#FULL}), which no cache or listener sees. */
  boolean isWarmUp() {
    return warmUp;
  }

  Job(long id, FoleyRequest request, FoleyListener listener, Ticker ticker) {
    this(id, request, listener, ticker, false);
  }

  /** @param warmUp the engine's own warm-up request: no caches, no single-flight, no events */
  Job(long id, FoleyRequest request, FoleyListener listener, Ticker ticker, boolean warmUp) {
    this.warmUp = warmUp;
    this.id = id;
    this.request = request;
    this.listener = listener == null ? FoleyListener.NONE : listener;
    this.ticker = ticker;
    this.submittedTicks = ticker.nanos();
    // deadlineNanos() is at most a year, so the sum cannot overflow; compared wrap-safe below
    this.hasDeadline = request.deadlineNanos() != Long.MAX_VALUE;
    this.deadlineNanos = hasDeadline ? submittedTicks + request.deadlineNanos() : 0;
    this.publisher = new ChunkPublisher("job " + id);
  }

  private volatile VideoInput.Loaded video;

  /** Takes the stamp of the video file (size, mtime, file key) as this job first reads it. */
  void stampSource() {
    if (request.video() != null) { // a video from memory has no file to stamp
      source = SourceStamp.of(request.video());
    }
  }

  /**
   * The job's video as it reads it: loaded (a stream read into memory) the first time, kept for a
   * second run of the same job, and dropped when the job is done.
   */
  VideoInput.Loaded video(boolean digest) {
    return video(digest, false);
  }

  /**
   * As {@link #video(boolean)}; with {@code whileReading}, a stream's reading only starts, and the
   * result holds its bytes as they arrive ({@link VideoInput.Loaded#streaming()}) until {@link
   * #wholeVideo()}.
   */
  VideoInput.Loaded video(boolean digest, boolean whileReading) {
    VideoInput.Loaded v = video;
    if (v == null) {
      v = whileReading ? request.input().start(digest, this::stopReason, streamReaderName())
          : request.input().load(digest, this::stopReason, streamReaderName());
      video = isDone() ? null : v; // done meanwhile: whenDone already ran and must not be outlived
    }
    return v;
  }

  /** The job's video with all its bytes: a stream still arriving is waited for (see {@link VideoInput.Loaded#whole()}). */
  VideoInput.Loaded wholeVideo() {
    VideoInput.Loaded v = video;
    if (v == null || v.streaming() == null) {
      return v;
    }
    VideoInput.Loaded w = v.whole();
    video = isDone() ? null : w;
    return w;
  }

  /** foley-&lt;engine&gt;-stream-&lt;job&gt;, from the request thread's name foley-&lt;engine&gt;-request-N. */
  private String streamReaderName() {
    String t = Thread.currentThread().getName();
    int i = t.lastIndexOf("-request-");
    return (i > 0 ? t.substring(0, i) : "foley") + "-stream-" + id;
  }

  /** Whether the job holds its video's bytes now (for tests). */
  boolean holdsVideo() {
    VideoInput.Loaded v = video;
    return v != null && (v.bytes() != null || v.streaming() != null);
  }

  /** Drops the video's bytes (and closes a stream never read): the job is done. */
  void releaseVideo() {
    video = null;
    request.input().discard();
  }

  /** The stamp taken by {@link #stampSource()}, or null if the job never read its video. */
  SourceStamp sourceStamp() {
    return source;
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
    if (hasDeadline && ticker.nanos() - deadlineNanos > 0) {
      return deadlineExceeded();
    }
    return null;
  }

  /** Nanoseconds of ticker time until its deadline (negative once past), Long.MAX_VALUE for none. */
  long nanosToDeadline() {
    return hasDeadline ? deadlineNanos - ticker.nanos() : Long.MAX_VALUE;
  }

  FoleyException deadlineExceeded() {
    return new FoleyException(FoleyException.Code.DEADLINE_EXCEEDED, "job " + id + " passed its deadline of "
        + request.deadline().orElseThrow() + " after submission; its work was stopped");
  }

  /** True once the job completed, failed or was cancelled: its work should stop. */
  boolean isDone() {
    return finished;
  }

  /** Queues a chunk for the listener and subscribers; call {@link #deliver()} after any lock. */
  void enqueueChunk(AudioChunk c) {
    synchronized (lock) {
      assert LockOrder.taken(lock);
      if (!done) {
        events.add(() -> {
          try {
            guard(() -> listener.onChunk(c), "onChunk");
          } finally {
            publisher.emit(c);
          }
        });
      }
    }
  }

  /** Queues progress; call {@link #deliver()} after any lock. */
  void enqueueProgress(Progress p) {
    synchronized (lock) {
      assert LockOrder.taken(lock);
      if (!done) {
        events.add(() -> guard(() -> listener.onProgress(p), "onProgress"));
      }
    }
  }

  /** Runs the queued events, unless another thread is already running them. Never under a lock. */
  void deliver() {
    events.drain();
  }

  @Override
  public java.util.concurrent.Flow.Publisher<AudioChunk> chunks() {
    return publisher;
  }

  boolean complete(FoleyResult r) {
    return finish(r, null, false);
  }

  boolean fail(FoleyException e) {
    return finish(null, e, false);
  }

  private boolean finish(FoleyResult r, FoleyException e, boolean cancel) {
    synchronized (lock) {
      assert LockOrder.taken(lock);
      if (done) {
        return false;
      }
      done = true; // from here no event can be queued but the end, below
      finished = true;
      cancelled = cancel;
    }
    Runnable end;
    if (r != null) {
      end = () -> {
        future.complete(r);
        try {
          guard(() -> listener.onComplete(r), "onComplete");
        } finally {
          publisher.complete();
        }
      };
    } else {
      // at once, in this thread, and before onFailure can run on a thread draining the queue
      future.completeExceptionally(e);
      end = () -> {
        try {
          guard(() -> listener.onFailure(e), "onFailure");
        } finally {
          publisher.fail(e);
        }
      };
    }
    events.add(end); // after every event queued before done was set
    deliver();
    return true;
  }

  private void guard(Runnable r, String what) {
    assert UserCode.assertNoFoleyLockHeld("listener " + what + " of job " + id);
    try {
      r.run();
    } catch (Throwable e) { // errors and undeclared checked exceptions too: the job goes on
      UserCode.rethrowIfLockRule(e);
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
