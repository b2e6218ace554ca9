package io.foley4j.cachestore;

import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** A Redis store of safetensors-encoded entries, through Lettuce; see {@link RedisCacheBuilder}. */
final class RedisTensorCache implements CloseableTensorCache {

  /** Resolved options. */
  record Settings(String uri, String host, int port, String prefix, Duration ttl, int maximumValueBytes,
      Duration commandTimeout, Duration connectTimeout) {}

  private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final Settings settings;
  private final String name;
  private final long timeoutNanos;
  private final SetArgs setArgs;
  private final ClientResources resources;
  private final RedisClient client;
  private final RedisURI redisUri;
  private final RedisCodec<String, byte[]> codec = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

  private final Object lock = new Object();
  private volatile StatefulRedisConnection<String, byte[]> connection; // written under lock
  private CompletableFuture<StatefulRedisConnection<String, byte[]>> pending; // guarded by lock
  private long nextAttemptNanos; // guarded by lock
  private final AtomicBoolean closed = new AtomicBoolean();

  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder puts = new LongAdder();
  private final LongAdder evictions = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final WarningLimiter warnings = new WarningLimiter(TimeUnit.SECONDS.toNanos(10));

  RedisTensorCache(Settings settings) {
    this.settings = settings;
    this.redisUri = settings.uri() != null ? RedisURI.create(settings.uri()) : RedisURI.create(settings.host(), settings.port());
    this.redisUri.setTimeout(settings.commandTimeout());
    this.name = redisUri.getSocket() != null ? redisUri.getSocket() : redisUri.getHost() + ":" + redisUri.getPort();
    this.timeoutNanos = settings.commandTimeout().toNanos();
    this.setArgs = SetArgs.Builder.px(settings.ttl().toMillis());
    int instance = INSTANCES.incrementAndGet();
    this.resources = DefaultClientResources.builder()
        .ioThreadPoolSize(DefaultClientResources.MIN_IO_THREADS)
        .computationThreadPoolSize(DefaultClientResources.MIN_COMPUTATION_THREADS)
        .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
        .threadFactoryProvider(pool -> threadFactory("foley-redis" + instance + "-" + pool))
        .build();
    try {
      this.client = RedisClient.create(resources, redisUri);
      client.setOptions(ClientOptions.builder()
          .autoReconnect(true)
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .socketOptions(SocketOptions.builder().connectTimeout(settings.connectTimeout()).build())
          .timeoutOptions(TimeoutOptions.enabled(settings.commandTimeout()))
          .build());
    } catch (RuntimeException e) {
      resources.shutdown(0, 1, TimeUnit.SECONDS);
      throw e;
    }
    synchronized (lock) {
      startConnect();
    }
  }

  @Override
  public CacheEntry get(String key) {
    Objects.requireNonNull(key, "key");
    checkOpen();
    long deadline = System.nanoTime() + timeoutNanos;
    StatefulRedisConnection<String, byte[]> c = connection(deadline);
    if (c == null) {
      misses.increment();
      errors.increment();
      warnings.warn("Redis " + name + " is not connected; cache get is a miss", null);
      return null;
    }
    byte[] value;
    try {
      value = await(c.async().get(settings.prefix() + key), deadline);
    } catch (Exception e) {
      misses.increment();
      errors.increment();
      warnings.warn("Redis " + name + " GET failed; cache get is a miss", e);
      return null;
    }
    if (value == null) {
      misses.increment();
      return null;
    }
    try {
      CacheEntry entry = CacheEntry.fromBytes(value);
      hits.increment();
      return entry;
    } catch (RuntimeException e) {
      misses.increment();
      errors.increment();
      warnings.warn("Redis " + name + " holds a malformed value under " + settings.prefix() + key + "; deleting it", e);
      try {
        c.async().del(settings.prefix() + key);
      } catch (RuntimeException ignored) {
        // best effort
      }
      return null;
    }
  }

  @Override
  public void put(String key, CacheEntry entry) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(entry, "entry");
    checkOpen();
    byte[] data = entry.toBytes();
    if (data.length > settings.maximumValueBytes()) {
      evictions.increment();
      return;
    }
    long deadline = System.nanoTime() + timeoutNanos;
    StatefulRedisConnection<String, byte[]> c = connection(deadline);
    if (c == null) {
      errors.increment();
      warnings.warn("Redis " + name + " is not connected; cache put dropped", null);
      return;
    }
    try {
      await(c.async().set(settings.prefix() + key, data, setArgs), deadline);
      puts.increment();
    } catch (Exception e) {
      errors.increment();
      warnings.warn("Redis " + name + " SET failed; cache put dropped", e);
    }
  }

  @Override
  public CacheStats stats() {
    return new CacheStats(hits.sum(), misses.sum(), puts.sum(), evictions.sum(), errors.sum(), 0, 0);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    StatefulRedisConnection<String, byte[]> c;
    synchronized (lock) {
      c = connection;
      connection = null;
    }
    if (c != null) {
      try {
        c.close();
      } catch (RuntimeException e) {
        WarningLimiter.LOG.log(System.Logger.Level.DEBUG, "closing Redis connection failed", e);
      }
    }
    try {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    } catch (RuntimeException e) {
      WarningLimiter.LOG.log(System.Logger.Level.DEBUG, "shutting down Redis client failed", e);
    }
    resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3_000);
  }

  @Override
  public String toString() {
    return "RedisTensorCache[" + name + ", prefix=" + settings.prefix() + "]";
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("cache is closed: " + this);
    }
  }

  /** The connection, waiting for a pending connect until {@code deadline}; null if there is none. */
  private StatefulRedisConnection<String, byte[]> connection(long deadline) {
    StatefulRedisConnection<String, byte[]> c = connection;
    if (c != null) {
      return c;
    }
    CompletableFuture<StatefulRedisConnection<String, byte[]>> f;
    synchronized (lock) {
      if (connection != null) {
        return connection;
      }
      if (pending.isDone() && System.nanoTime() - nextAttemptNanos >= 0) {
        startConnect();
      }
      f = pending;
    }
    try {
      return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      return null;
    }
  }

  /** Starts one connection attempt in the background. Caller holds {@link #lock}. */
  private void startConnect() {
    nextAttemptNanos = System.nanoTime() + RETRY_NANOS;
    CompletableFuture<StatefulRedisConnection<String, byte[]>> f;
    try {
      f = client.connectAsync(codec, redisUri).toCompletableFuture();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    pending = f;
    f.whenComplete((c, e) -> {
      if (c != null) {
        install(c);
      } else {
        warnings.warn("cannot connect to Redis " + name + " (retrying at most once a second)", e);
      }
    });
  }

  private void install(StatefulRedisConnection<String, byte[]> c) {
    boolean keep;
    synchronized (lock) {
      keep = !closed.get() && connection == null;
      if (keep) {
        connection = c;
      }
    }
    if (!keep) {
      c.closeAsync();
    }
  }

  private <T> T await(RedisFuture<T> future, long deadline) throws Exception {
    try {
      return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(false);
      throw e;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw e;
    }
  }

  private static ThreadFactory threadFactory(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
