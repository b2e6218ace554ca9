package io.foley4j.backend;

import io.foley4j.bundle.StageSpec;
import java.util.Map;

/**
 * One loaded stage. {@link #run} is thread-safe; {@link #close()} is idempotent and must not race
 * with a running call (the engine closes sessions only after its workers stopped).
 */
public interface StageSession extends AutoCloseable {

  StageSpec spec();

  /**
   * Runs the stage once. Inputs are named as in the manifest and carry the batch as their first
   * dimension; every output is returned, float32, on the heap.
   *
   * @throws io.foley4j.FoleyException with code BACKEND_FAILURE if the runtime fails
   */
  Map<String, Tensor> run(Map<String, Tensor> inputs);

  /**
   * Asks the call now running on this session, if any, to stop early (it then fails); used when
   * every job waiting for it was cancelled. Safe from any thread; a no-op where unsupported.
   */
  default void terminateRunning() {}

  /**
   * Whether this session was loaded from an optimized model that an earlier build stored
   * ({@code CpuBackend.Builder.optimizedModelCache}); reported by {@code FoleyEngine.readiness()}.
   */
  default boolean optimizedModelCacheHit() {
    return false;
  }

  /**
   * Whether the runtime loaded this session's compiled engine from a cache instead of building it
   * (TensorRT's engine cache, {@code TensorRtBackend}); reported by {@code FoleyEngine.readiness()}.
   */
  default boolean engineCacheHit() {
    return false;
  }

  /** Nanoseconds spent inside the runtime's run call so far (for overhead accounting). */
  long runNanos();

  @Override
  void close();
}
