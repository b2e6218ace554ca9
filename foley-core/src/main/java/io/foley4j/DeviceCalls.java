package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.Stage;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@link StageCalls} on a device's {@link DeviceScheduler}: each call is queued with the flight's
 * urgency, timed into the flight's clock and reported to the event listener (start and end, in
 * pairs, never under a lock).
 */
final class DeviceCalls implements StageCalls {
  private final Flight flight;
  private final DeviceScheduler device;
  private final FoleyEventListener events;

  DeviceCalls(Flight flight, DeviceScheduler device, FoleyEventListener events) {
    this.flight = flight;
    this.device = device;
    this.events = events;
  }

  @Override
  public PendingCall submit(Stage stage, Phase phase, Map<String, Tensor> inputs, int rows, int segment, int step) {
    UserCode.run("event listener", () -> events.callStart(flight.id(), phase, segment, step));
    long t0 = System.nanoTime();
    return new Timed(phase, segment, step, t0,
        device.submit(stage, inputs, rows, flight, urgency(flight, stage, segment)));
  }

  @Override
  public void enter(Stage stage) {
    device.enter(stage);
  }

  @Override
  public void exit(Stage stage) {
    device.exit(stage);
  }

  @Override
  public StageCalls on(DeviceScheduler other) {
    return other == device ? this : new DeviceCalls(flight, other, events);
  }

  /**
   * Submits each next step from the device's worker, in the completion of the step before it: the
   * worker makes the inputs ({@link StageCalls.Chain}: a few array copies and the Euler update) and
   * queues the step before it forms its next batch, so neither the device nor a batch of chained
   * steps waits for a thread to wake up. The calling thread follows behind, step by step: it
   * reports each call to the event listener and the job's clock (start and end in pairs, from the
   * times the worker took), and runs {@code afterStep}.
   */
  @Override
  public void chain(Stage stage, Phase phase, int rows, int segment, int steps, Chain chain,
      java.util.function.IntConsumer afterStep) {
    if (steps <= 0) {
      return;
    }
    ChainRun run = new ChainRun(stage, rows, segment, steps, chain);
    long t0 = start(phase, segment, 0);
    run.submit(0, chain.inputs(0));
    for (int s = 0; ; s++) {
      ChainRun.Ended e = run.next();
      end(phase, segment, s, t0, e.at(), e.error() != null);
      if (e.error() != null) {
        throw ChainRun.rethrow(e.error());
      }
      if (e.next()) { // the worker submitted step s + 1 when step s ended
        t0 = e.at();
        start(phase, segment, s + 1);
      }
      try {
        afterStep.accept(s);
      } catch (RuntimeException | Error stop) {
        run.stop = true;
        if (e.next()) { // it was already queued: wait for it, so nothing of the job outlives this call
          ChainRun.Ended last = run.next();
          end(phase, segment, s + 1, t0, last.at(), last.error() != null);
        }
        throw stop;
      }
      if (!e.next()) {
        return;
      }
    }
  }

  private long start(Phase phase, int segment, int step) {
    UserCode.run("event listener", () -> events.callStart(flight.id(), phase, segment, step));
    return System.nanoTime();
  }

  private void end(Phase phase, int segment, int step, long t0, long at, boolean failed) {
    flight.clock().addInterval(phase, t0, at);
    long dt = at - t0;
    UserCode.run("event listener", () -> events.callEnd(flight.id(), phase, segment, step, dt, failed));
  }

  /** One chain on this device: its steps are submitted by their predecessors' completions. */
  private final class ChainRun {
    /** Step {@code step} ended at {@code at}; {@code next}: step + 1 was submitted. */
    record Ended(int step, long at, Throwable error, boolean next) {}

    private final Stage stage;
    private final int rows;
    private final int segment;
    private final int steps;
    private final Chain chain;
    private final java.util.concurrent.LinkedBlockingQueue<Ended> ended = new java.util.concurrent.LinkedBlockingQueue<>();
    volatile boolean stop; // the calling thread gave up: submit nothing more

    ChainRun(Stage stage, int rows, int segment, int steps, Chain chain) {
      this.stage = stage;
      this.rows = rows;
      this.segment = segment;
      this.steps = steps;
      this.chain = chain;
    }

    void submit(int s, Map<String, Tensor> inputs) {
      device.submit(stage, inputs, rows, flight, urgency(flight, stage, segment))
          .whenComplete((out, err) -> ended(s, out, err));
    }

    /**
     * On the device's worker (or, for a call refused at once, on the submitting thread): takes the
     * outputs, and queues the next step unless this was the last one or the caller stopped. The
     * end is announced before the next step is submitted, so that the caller sees the steps' ends
     * in order even when a submission fails at once.
     */
    private void ended(int s, Map<String, Tensor> out, Throwable err) {
      long at = System.nanoTime();
      if (err != null) {
        ended.add(new Ended(s, at, err, false));
        return;
      }
      Map<String, Tensor> next;
      try {
        chain.done(s, out);
        next = s + 1 < steps && !stop ? chain.inputs(s + 1) : null;
      } catch (Throwable t) { // never into the worker: it would fail the other items of its batch
        ended.add(new Ended(s, at, t, false));
        return;
      }
      ended.add(new Ended(s, at, null, next != null));
      if (next != null) {
        submit(s + 1, next);
      }
    }

    /** The next step's end, waiting through interrupts (restored after), as a call's wait does. */
    Ended next() {
      boolean interrupted = false;
      try {
        while (true) {
          try {
            return ended.take();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /** A step's failure as {@link DeviceScheduler#join} throws it (an error as it was). */
    static RuntimeException rethrow(Throwable t) {
      if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
        t = t.getCause();
      }
      if (t instanceof FoleyException f) {
        return f;
      }
      if (t instanceof Error err) {
        throw err;
      }
      return new FoleyException(FoleyException.Code.INTERNAL, "backend call failed: " + t, t);
    }
  }

  /**
   * The segment an item ranks as in its device's queue: its own, except that encoder work for a
   * segment the job will run within its segments in flight ranks as the segment running now, ahead
   * of that segment's denoiser steps. With one segment in flight, encoding the next segment waits
   * for the current one's steps (the first chunk comes sooner); with K, the K segments' features
   * come first, so that they can denoise together.
   */
  static int urgency(Flight flight, Stage stage, int segment) {
    if (segment > 0 && (stage == Stage.VISUAL_ENCODER || stage == Stage.SYNC_ENCODER)) {
      return Math.max(0, segment - (flight.segmentsInFlight() - 1));
    }
    return segment;
  }

  /** A queued item whose end is timed and reported when it is awaited. */
  private final class Timed extends PendingCall {
    private final Phase phase;
    private final int segment;
    private final int step;
    private final long t0;
    private final CompletableFuture<Map<String, Tensor>> future;
    private volatile long doneAt; // when the device finished it (System.nanoTime()), 0 while pending

    Timed(Phase phase, int segment, int step, long t0, CompletableFuture<Map<String, Tensor>> future) {
      this.phase = phase;
      this.segment = segment;
      this.step = step;
      this.t0 = t0;
      this.future = future;
      future.whenComplete((r, e) -> doneAt = System.nanoTime()); // on the device thread: no user code
    }

    /**
     * Its time runs from submission to when the device finished it (not to when the caller came
     * back for it), and the job's clock counts the time its overlapping calls share once
     * ({@link PhaseClock#addInterval}).
     */
    @Override
    Map<String, Tensor> await() {
      boolean failed = true;
      try {
        Map<String, Tensor> out = DeviceScheduler.join(future);
        failed = false;
        return out;
      } finally {
        long end = doneAt != 0 ? doneAt : System.nanoTime(); // 0: the completion callback has not run yet
        long dt = end - t0;
        flight.clock().addInterval(phase, t0, end);
        boolean f = failed;
        UserCode.run("event listener", () -> events.callEnd(flight.id(), phase, segment, step, dt, f));
      }
    }
  }
}
