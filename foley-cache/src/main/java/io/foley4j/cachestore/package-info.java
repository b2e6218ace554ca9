/**
 * Implementations of {@link io.foley4j.cache.TensorCache}: a byte-bounded in-memory cache, a
 * size-bounded directory of safetensors files that several processes may share, and a Redis cache
 * that many nodes share.
 *
 * <p>The public surface is {@link io.foley4j.cachestore.TensorCaches} (static factories), its three
 * builders and {@link io.foley4j.cachestore.CloseableTensorCache}; the stores themselves are package
 * private. Every store is thread-safe and, as the {@code TensorCache} contract asks, turns a failure
 * of the store (a corrupt file, an unreachable Redis) into a miss or a dropped write that is logged
 * through {@link System.Logger} (logger {@code io.foley4j.cachestore}) and counted in
 * {@link io.foley4j.cache.CacheStats#errors()}.
 *
 * <p>Arguments and return values are non-null unless documented otherwise.
 */
package io.foley4j.cachestore;
