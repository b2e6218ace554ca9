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
   * A chain of dependent calls of one stage, such as the denoise loop: step {@code s + 1}'s inputs
   * are made from step {@code s}'s outputs. Both methods are called one at a time, in step order,
   * each after the previous one returned; {@link DeviceCalls} runs them on the device's worker
   * thread right after the previous call ended, so they must be quick, must not block or take
   * locks, and must call no user code.
   */
  interface Chain {
    /** The inputs of step {@code step}. */
    Map<String, Tensor> inputs(int step);

    /** Takes the outputs of step {@code step}. */
    void done(int step, Map<String, Tensor> outputs);
  }

  /**
   * Runs steps {@code 0 .. steps − 1} of {@code chain} as calls of {@code stage}, each
   * {@code rows} rows for {@code segment}, and returns once the last step's outputs were taken.
   * {@code afterStep} runs on the calling thread after each step, in order (it reports progress,
   * and may throw to stop: no further step is submitted, and one already submitted ends before this
   * throws what it threw). A step's failure is thrown as {@link #call} throws it.
   *
   * <p>This default waits for each call on the calling thread before it makes the next one's
   * inputs. {@link DeviceCalls} submits the next step from the device's worker as soon as the
   * previous one ended, so the device never waits for the calling thread to wake up between steps
   * and a batch of chained steps is complete as soon as the previous batch ended.
   */
  default void chain(Stage stage, Phase phase, int rows, int segment, int steps, Chain chain,
      java.util.function.IntConsumer afterStep) {
    for (int s = 0; s < steps; s++) {
      chain.done(s, call(stage, phase, chain.inputs(s), rows, segment, s));
      afterStep.accept(s);
    }
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
