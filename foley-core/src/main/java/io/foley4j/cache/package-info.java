/**
 * The cache SPI: {@link io.foley4j.cache.TensorCache} stores {@link io.foley4j.cache.CacheEntry}s
 * (safetensors bytes) by SHA-256 key. foley-cache implements memory, disk and Redis stores; the
 * engine derives the keys and decides what to store (docs/caching.md).
 */
package io.foley4j.cache;
