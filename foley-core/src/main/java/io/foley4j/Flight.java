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

  Flight(String key, Job leader) {
    this.key = key;
    this.leader = leader;
    this.priority = leader.priority();
    jobs.add(leader);
  }

  /** Adds a job; false if the flight already finished (then the caller computes on its own). */
  boolean join(Job job) {
    synchronized (this) {
      if (closed || allDone()) {
        return false;
      }
      jobs.add(job);
      priority = Math.min(priority, job.priority());
      for (AudioChunk c : emitted) {
        job.enqueueChunk(c);
      }
    }
    job.deliver();
    return true;
  }

  private boolean allDone() {
    for (Job j : jobs) {
      if (!j.isDone()) {
        return false;
      }
    }
    return true;
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

  // ---- DeviceScheduler.Owner (lock-free) ------------------------------------------------------

  @Override
  public int priority() {
    return priority;
  }

  @Override
  public long sequence() {
    return leader.sequence();
  }

  @Override
  public FoleyException stopReason() {
    FoleyException reason = null;
    for (Job j : jobs) {
      if (!j.isDone()) {
        FoleyException e = j.stopReason();
        if (e == null) {
          return null; // someone still wants it
        }
        reason = e;
      }
    }
    return reason != null ? reason : new RequestRun.StopJob();
  }

  // ---- events to every job ----------------------------------------------------------------------

  void chunk(AudioChunk c) {
    synchronized (this) {
      emitted.add(c);
      for (Job j : jobs) {
        j.enqueueChunk(c);
      }
    }
    for (Job j : jobs) {
      j.deliver();
    }
  }

  void progress(Progress p) {
    for (Job j : jobs) {
      j.progress(p);
    }
  }

  void complete(float[] samples, int sampleRate, StageTimings timings) {
    synchronized (this) {
      closed = true;
    }
    for (Job j : jobs) {
      j.complete(new FoleyResult(j.request(), samples, sampleRate, timings, j.sourceStamp()));
    }
  }

  void fail(FoleyException e) {
    synchronized (this) {
      closed = true;
    }
    for (Job j : jobs) {
      j.fail(e);
    }
  }
}
