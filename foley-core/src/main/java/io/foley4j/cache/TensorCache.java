package io.foley4j.cache;

/**
 * A store of {@link CacheEntry}s by key, plugged into an engine as its result cache, its feature
 * cache, or both ({@code FoleyEngine.builder().resultCache(c).featureCache(c)}). foley-cache ships
 * memory, disk and Redis implementations; any other store can implement this interface.
 *
 * <p>Keys are lowercase hex SHA-256 strings (64 characters) that the engine derives from everything
 * that changes the stored value (video bytes, prompt, parameters, bundle digest); implementations
 * may use them as file names or key suffixes as they are.
 *
 * <p>Contract: implementations are thread-safe and never throw to the engine for a failure of the
 * store itself — a corrupt, unreachable or slow store yields a miss ({@code null}) or a dropped
 * write, logged and counted in {@link CacheStats#errors()}. A cache is an optimisation: the engine
 * computes whatever it does not find.
 */
public interface TensorCache {

  /** The entry stored under {@code key}, or null on a miss. */
  CacheEntry get(String key);

  /** Stores an entry (replacing any under the same key); may drop it if the store refuses it. */
  void put(String key, CacheEntry entry);

  /** Current counters. */
  CacheStats stats();
}
