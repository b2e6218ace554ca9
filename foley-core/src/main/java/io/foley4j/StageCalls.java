package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.Stage;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The narrow handle through which a pipeline step calls the model: bound to one computation (a
 * {@link Flight}) and one device. Calls are timed into the job and reported to the event listener
 * by the implementation ({@link DeviceCalls}); a test gives a fake one.
 */
interface StageCalls {

  /**
   * Queues one work item without waiting for it, so that a caller can keep several in flight and
   * the device finds them queued together; {@link PendingCall#await} gives its outputs.
   *
   * @param rows the batch rows of the item
   * @param segment the segment the item is for, -1 for the whole job (text)
   * @param step the denoiser step, -1 for other stages
   */
  PendingCall submit(Stage stage, Phase phase, Map<String, Tensor> inputs, int rows, int segment, int step);

  /** {@link #submit} and wait: the item's outputs, or its failure as a {@link FoleyException}. */
  default Map<String, Tensor> call(Stage stage, Phase phase, Map<String, Tensor> inputs, int rows, int segment,
      int step) {
    return submit(stage, phase, inputs, rows, segment, step).await();
  }

  /**
   * Registers the caller as a party of {@code stage}: a batch of that stage on this device may wait
   * (briefly) for the caller's next item instead of leaving without it. Pair with {@link #exit}.
   */
  void enter(Stage stage);

  /** Ends {@link #enter}. */
  void exit(Stage stage);

  /** Runs {@code body} between {@link #enter} and {@link #exit} of {@code stage}. */
  default <T> T asParty(Stage stage, Supplier<T> body) {
    enter(stage);
    try {
      return body.get();
    } finally {
      exit(stage);
    }
  }

  /** The same computation's calls on another device (a segment placed there). */
  StageCalls on(DeviceScheduler device);
}
