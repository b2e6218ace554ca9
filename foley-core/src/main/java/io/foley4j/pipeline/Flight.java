package io.foley4j.pipeline;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyException;
import io.foley4j.FoleyResult;
import io.foley4j.Progress;
import io.foley4j.StageTimings;
import io.foley4j.schedule.DeviceScheduler;
import java.util.ArrayList;
import java.util.List;

/**
 * One computation of audio and the jobs waiting for it. Usually one job; with single-flight, every
 * identical request that arrives while it runs joins it, receives the chunks emitted so far at once
 * and the rest as they come, and completes with the same samples. The computation stops only when
 * every job it serves is done, so cancelling one job never cancels the others.
 */
final class Flight implements DeviceScheduler.Owner {
  final String key; // null: not shared
  final Job leader;
  private final List<Job> jobs = new ArrayList<>();
  private final List<AudioChunk> emitted = new ArrayList<>();
  private boolean closed;

  Flight(String key, Job leader) {
    this.key = key;
    this.leader = leader;
    jobs.add(leader);
  }

  /** Adds a job; false if the flight already finished (then the caller computes on its own). */
  synchronized boolean join(Job job) {
    if (closed || allDone()) {
      return false;
    }
    jobs.add(job);
    for (AudioChunk c : emitted) {
      job.chunk(c);
    }
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
  synchronized boolean isDone() {
    return allDone();
  }

  /** Fails the jobs that passed their deadline; true if some job still wants the result. */
  synchronized boolean expireAndCheck() {
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

  // ---- DeviceScheduler.Owner -------------------------------------------------------------------

  @Override
  public synchronized int priority() {
    int p = Integer.MAX_VALUE;
    for (Job j : jobs) {
      if (!j.isDone()) {
        p = Math.min(p, j.priority());
      }
    }
    return p == Integer.MAX_VALUE ? leader.priority() : p;
  }

  @Override
  public long sequence() {
    return leader.sequence();
  }

  @Override
  public synchronized FoleyException stopReason() {
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

  synchronized void chunk(AudioChunk c) {
    emitted.add(c);
    for (Job j : jobs) {
      j.chunk(c);
    }
  }

  synchronized void progress(Progress p) {
    for (Job j : jobs) {
      j.progress(p);
    }
  }

  void complete(float[] samples, int sampleRate, StageTimings timings) {
    List<Job> all;
    synchronized (this) {
      closed = true;
      all = List.copyOf(jobs);
    }
    for (Job j : all) {
      j.complete(new FoleyResult(j.request(), samples, sampleRate, timings));
    }
  }

  void fail(FoleyException e) {
    List<Job> all;
    synchronized (this) {
      closed = true;
      all = List.copyOf(jobs);
    }
    for (Job j : all) {
      j.fail(e);
    }
  }
}
