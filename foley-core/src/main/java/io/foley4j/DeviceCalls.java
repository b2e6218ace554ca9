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
