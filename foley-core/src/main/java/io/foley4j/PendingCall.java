package io.foley4j;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import io.foley4j.backend.Tensor;

/** A work item queued on a device: {@link #await} once (or {@link #awaitQuietly}). */
abstract class PendingCall {

  /**
   * Waits for the outputs.
   *
   * @throws FoleyException the item's failure
   */
  abstract Map<String, Tensor> await();

  /** Waits for the call to end, ignoring its result or failure (a job that gave up on it). */
  final void awaitQuietly() {
    try {
      await();
    } catch (FoleyException ignored) {
      // the job already failed or stopped for its own reason
    }
  }

  /** A call that completes with {@code future} (for handles that do no timing of their own). */
  static PendingCall of(CompletableFuture<Map<String, Tensor>> future) {
    return new PendingCall() {
      @Override
      Map<String, Tensor> await() {
        return DeviceScheduler.join(future);
      }
    };
  }
}
