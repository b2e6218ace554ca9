package io.foley4j.pipeline;

import io.foley4j.StageTimings;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.Stage;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs backend calls one at a time (fair order), so concurrent jobs and stages never
 * oversubscribe the device, and charges each call's time to the calling job's phase.
 */
final class BackendRunner implements AutoCloseable {
  private final Map<Stage, StageSession> sessions;
  private final ReentrantLock lock = new ReentrantLock(true);

  BackendRunner(Map<Stage, StageSession> sessions) {
    this.sessions = new EnumMap<>(sessions);
  }

  Map<String, Tensor> run(Stage stage, Map<String, Tensor> inputs, PhaseClock clock, StageTimings.Phase phase) {
    lock.lock();
    try {
      long t0 = System.nanoTime();
      Map<String, Tensor> out = sessions.get(stage).run(inputs);
      if (clock != null) {
        clock.add(phase, System.nanoTime() - t0);
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  /** Total nanoseconds spent inside the runtime across all stages. */
  long runtimeNanos() {
    long n = 0;
    for (StageSession s : sessions.values()) {
      n += s.runNanos();
    }
    return n;
  }

  @Override
  public void close() {
    for (StageSession s : sessions.values()) {
      s.close();
    }
  }
}
