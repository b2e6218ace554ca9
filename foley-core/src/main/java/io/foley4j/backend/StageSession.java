package io.foley4j.backend;

import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import java.util.HashMap;
import java.util.List;
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
   * Runs the stage once on several items: each input is the items' tensors of that name
   * concatenated along the batch axis (the first dimension), in list order, and the result is what
   * {@link #run} gives for those inputs. Every item names every input, with the same shape apart
   * from the batch axis.
   *
   * <p>A backend may keep an input's data in its own memory from one call to the next and skip
   * copying it when the next call passes the very same tensors for it (the same objects, in the
   * same order): a {@link Tensor}'s data never changes once it is built. The engine passes a
   * segment's conditioning as the same tensors at every denoiser step. The default concatenates
   * and calls {@link #run}.
   */
  default Map<String, Tensor> runBatch(List<Map<String, Tensor>> items) {
    if (items.size() == 1) {
      return run(items.get(0));
    }
    Map<String, Tensor> in = new HashMap<>();
    for (TensorSpec t : spec().inputs()) {
      Tensor[] parts = new Tensor[items.size()];
      for (int i = 0; i < parts.length; i++) {
        parts[i] = items.get(i).get(t.name());
      }
      in.put(t.name(), Tensor.concat(parts));
    }
    return run(in);
  }

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
