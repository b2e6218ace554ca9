package io.foley4j.cachestore;

import io.foley4j.cache.TensorCache;

/**
 * A {@link TensorCache} that holds resources (connections, threads) until it is closed.
 *
 * <p>{@link #close()} is idempotent and does not throw. Calling {@code get} or {@code put} after
 * {@code close()} is a programming error and throws {@link IllegalStateException}.
 */
public interface CloseableTensorCache extends TensorCache, AutoCloseable {

  /** Releases the cache's connections and threads; later calls do nothing. */
  @Override
  void close();
}
