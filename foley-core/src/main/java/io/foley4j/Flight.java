package io.foley4j;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One computation of audio and the jobs waiting for it. Usually one job; with single-flight, every
 * identical request that arrives while it runs joins it, receives the chunks emitted so far at once
 * and the rest as they come, and completes with the same samples. The computation stops only when
 * every job it serves is done, so cancelling one job never cancels the others.
 *
 * <p>Locking: the monitor only orders chunks against joins: under it a chunk is queued on every
 * job's event queue (a joiner's replay too), and the queues are drained after it is released, so
 * no lock is held while user callbacks run. {@link #priority()} and {@link #stopReason()} take no
 * lock (the scheduler calls them under its own), and jobs are completed or failed outside it.
 */
final class Flight implements DeviceScheduler.Owner {
  final String key; // null: not shared
  final Job leader;
  private final List<Job> jobs = new CopyOnWriteArrayList<>();
  private final List<AudioChunk> emitted = new ArrayList<>(); // guarded by this
  private volatile int priority;
  private boolean closed; // guarded by this
  private volatile DeviceScheduler home; // the device of its text and encoder calls, once placed
  private volatile int segmentsInFlight = 1;

  Flight(String key, Job leader) {
    this.key = key;
    this.leader = leader;
    this.priority = leader.priority();
    jobs.add(leader);
  }

  /** Adds a job; false if the flight already finished (then the caller computes on its own). */
  boolean join(Job job) {
    synchronized (this) {
      assert LockOrder.taken(this);
      if (closed || allDone()) {
        return false;
      }
      for (AudioChunk c : emitted) { // before it is listed: no progress may overtake its replay
        job.enqueueChunk(c);
      }
      jobs.add(job);
      priority = Math.min(priority, job.priority());
    }
    job.deliver();
    return true;
  }

  /**
   * Closes the flight to joiners if no job wants its result; false when some job still does (one
   * may have joined after the work decided to stop). Atomic with {@link #join}.
   */
  synchronized boolean stopIfAllDone() {
    assert LockOrder.taken(this);
    if (!allDone()) {
      return false;
    }
    closed = true;
    return true;
  }

  /** Closes the flight to joiners and returns the jobs that still want a result. */
  synchronized List<Job> closeAndTakeUnfinished() {
    assert LockOrder.taken(this);
    closed = true;
    List<Job> left = new ArrayList<>();
    for (Job j : jobs) {
      if (!j.isDone()) {
        left.add(j);
      }
    }
    return left;
  }

  private boolean allDone() {
    for (Job j : jobs) {
      if (!j.isDone()) {
        return false;
      }
    }
    return true;
  }

  /** Places the computation's text and encoder calls on {@code device} (see {@link Devices#home}). */
  void place(DeviceScheduler device) {
    this.home = device;
  }

  /** How many segments it keeps in flight from now on (1 until its first chunk; see SegmentPipeline). */
  void segmentsInFlight(int n) {
    segmentsInFlight = n;
  }

  int segmentsInFlight() {
    return segmentsInFlight;
  }

  /** The device of the computation's text and encoder calls; set before they start. */
  DeviceScheduler home() {
    DeviceScheduler h = home;
    if (h == null) {
      throw new IllegalStateException("flight " + id() + " has no home device yet");
    }
    return h;
  }

  /** The time accounting of the computation (the leader's). */
  PhaseClock clock() {
    return leader.clock;
  }

  long id() {
    return leader.id();
  }

  /** True when no job wants the result any more: the work should stop. */
  boolean isDone() {
    return allDone();
  }

  /** Fails the jobs that passed their deadline; true if some job still wants the result. */
  boolean expireAndCheck() {
    for (Job j : jobs) {
      if (!j.isDone()) {
        FoleyException e = j.stopReason();
        if (e != null) {
          j.fail(e);
        }
      }
    }
    return !allDone();
  }

  /** Ticker nanoseconds until the earliest deadline of its unfinished jobs, Long.MAX_VALUE for none. */
  long nanosToDeadline() {
    long soonest = Long.MAX_VALUE;
    for (Job j : jobs) {
      if (!j.isDone()) {
        soonest = Math.min(soonest, j.nanosToDeadline());
      }
    }
    return soonest;
  }

  // ---- DeviceScheduler.Owner (lock-free) ------------------------------------------------------

  @Override
  public int priority() {
    return priority;
  }

  @Override
  public long sequence() {
    return leader.sequence();
  }

  /**
   * Null while some job wants the result; else a {@link RequestRun.StopJob}, never one job's own
   * reason: each job is failed with its own reason (deadline) by {@link #expireAndCheck}, and a
   * job that joined meanwhile must not inherit another's.
   */
  @Override
  public FoleyException stopReason() {
    for (Job j : jobs) {
      if (!j.isDone() && j.stopReason() == null) {
        return null; // someone still wants it
      }
    }
    return new RequestRun.StopJob();
  }

  // ---- events to every job ----------------------------------------------------------------------

  void chunk(AudioChunk c) {
    synchronized (this) {
      assert LockOrder.taken(this);
      emitted.add(c);
      for (Job j : jobs) {
        j.enqueueChunk(c);
      }
    }
    deliver();
  }

  /**
   * Queues progress on every job without delivering it: a caller that orders progress from several
   * threads queues under its own monitor and calls {@link #deliver} after releasing it.
   */
  void enqueueProgress(Progress p) {
    for (Job j : jobs) {
      j.enqueueProgress(p);
    }
  }

  /** Delivers what is queued on every job; never call under a lock. */
  void deliver() {
    for (Job j : jobs) {
      j.deliver();
    }
  }

  /** Completes every job with variant 0 of {@code samples} (one array per variant). */
  void complete(float[][] samples, int sampleRate, StageTimings timings) {
    synchronized (this) {
      assert LockOrder.taken(this);
      closed = true;
    }
    for (Job j : jobs) {
      j.complete(new FoleyResult(j.request(), samples, 0, sampleRate, timings, j.sourceStamp()));
    }
  }

  void fail(FoleyException e) {
    synchronized (this) {
      assert LockOrder.taken(this);
      closed = true;
    }
    for (Job j : jobs) {
      j.fail(e);
    }
  }
}
