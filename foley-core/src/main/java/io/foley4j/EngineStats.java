package io.foley4j;

import io.foley4j.bundle.Stage;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of an engine's load, for dashboards and autoscalers.
 *
 * @param queuedByPriority jobs waiting to start, per priority
 * @param runningJobs jobs started and not finished
 * @param inFlightSegments segments currently in their denoising loop (the continuous batch), all devices
 * @param queuedItems backend work items waiting per stage
 * @param batchHistogram per stage, calls by batch size (index = work items in the call)
 * @param busyNanos per stage, time the device spent running it
 * @param utilization device busy time ÷ wall time since the previous snapshot, in [0, 1]
 * @param memoryInUseBytes admitted jobs' estimated bytes
 * @param memoryBudgetBytes the admission budget
 * @param loadScore exponentially smoothed weighted load in [0, 1]: 0.4 utilization + 0.3 memory
 *     + 0.3 queue fill, smoothed with α = 0.7
 * @param advice what an autoscaler should do: above 0.8 scale up, below 0.3 scale down
 * @param breaker the circuit breaker's state; with several devices, that of the device whose
 *     breaker is least open (the engine rejects work only when every device does)
 * @param devices each device, in the builder's order; the fields above add them up (utilization:
 *     their mean)
 */
public record EngineStats(Map<Priority, Integer> queuedByPriority, int runningJobs, int inFlightSegments,
    Map<Stage, Integer> queuedItems, Map<Stage, long[]> batchHistogram, Map<Stage, Long> busyNanos,
    double utilization, long memoryInUseBytes, long memoryBudgetBytes, double loadScore, ScaleAdvice advice,
    BreakerState breaker, List<DeviceStats> devices) {

  /** Autoscaling advice derived from the load score. */
  public enum ScaleAdvice { SCALE_UP, HOLD, SCALE_DOWN }

  /**
   * The circuit breaker's state: CLOSED passes work; OPEN rejects new jobs after repeated backend
   * failures; HALF_OPEN lets one probe call through, which closes it again on success.
   */
  public enum BreakerState { CLOSED, OPEN, HALF_OPEN }

  public EngineStats {
    queuedByPriority = Map.copyOf(queuedByPriority);
    queuedItems = Map.copyOf(queuedItems);
    batchHistogram = Map.copyOf(batchHistogram);
    busyNanos = Map.copyOf(busyNanos);
    devices = List.copyOf(devices);
  }

  /** Jobs waiting to start, all priorities. */
  public int queuedJobs() {
    return queuedByPriority.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Mean work items per call of a stage (0 if it never ran). */
  public double meanBatchSize(Stage stage) {
    long[] h = batchHistogram.get(stage);
    long calls = 0;
    long items = 0;
    for (int i = 0; i < h.length; i++) {
      calls += h[i];
      items += (long) i * h[i];
    }
    return calls == 0 ? 0 : items / (double) calls;
  }
}
