package io.foley4j.cachestore;

import java.time.Duration;
import java.util.Objects;

/**
 * Builds a Redis {@link CloseableTensorCache} (Lettuce client). Each entry is stored as one Redis
 * string under {@code prefix + key}, holding the entry's safetensors bytes, with a time to live.
 *
 * <p>Failure behaviour: the cache never throws for a Redis failure. A command that fails or does not
 * answer within {@link #commandTimeout(Duration)} makes {@code get} return null and {@code put} drop
 * the entry, counted in {@code errors} and logged (rate-limited) at WARNING. {@link #build()} does
 * not wait for Redis: it starts connecting in the background, so a server that is down at
 * construction neither fails nor blocks it; until the first connection succeeds, operations are
 * misses and the connection is retried at most once a second. Once connected, the client reconnects
 * by itself after an outage (backing off up to 1 s between attempts), and while disconnected,
 * commands fail at once rather than queue.
 *
 * <p>{@code entries} and {@code bytes} in the stats are 0: the server holds the entries (use
 * {@code INFO}/{@code DBSIZE}). An entry larger than {@link #maximumValueBytes(int)} is not stored
 * and counts as an eviction.
 *
 * <p>Needs {@code io.lettuce:lettuce-core} on the class path (an optional dependency of
 * foley-cache). Each option may be set once; {@link #build()} does not change the builder.
 */
public final class RedisCacheBuilder {
  static final String DEFAULT_PREFIX = "foley4j:";
  static final Duration DEFAULT_TTL = Duration.ofDays(7);
  static final int DEFAULT_MAXIMUM_VALUE_BYTES = 64 << 20;
  static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMillis(200);
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);

  private String uri;
  private String host;
  private int port;
  private String prefix;
  private Duration ttl;
  private int maximumValueBytes = -1;
  private Duration commandTimeout;
  private Duration connectTimeout;

  RedisCacheBuilder() {}

  /**
   * The server as a Redis URI, e.g. {@code redis://host:6379/0}, {@code rediss://user:pw@host} (the
   * Lettuce syntax). Default: {@code redis://localhost:6379}. Conflicts with {@link #host(String, int)}.
   */
  public RedisCacheBuilder uri(String uri) {
    Objects.requireNonNull(uri, "uri");
    if (this.uri != null) {
      throw new IllegalStateException("uri was already set to " + redact(this.uri));
    }
    if (!uri.startsWith("redis://") && !uri.startsWith("rediss://") && !uri.startsWith("redis-socket://")) {
      throw new IllegalArgumentException("uri must start with redis://, rediss:// or redis-socket://, got " + redact(uri));
    }
    this.uri = uri;
    return this;
  }

  /** The server by host and port. Conflicts with {@link #uri(String)}. */
  public RedisCacheBuilder host(String host, int port) {
    Objects.requireNonNull(host, "host");
    if (this.host != null) {
      throw new IllegalStateException("host was already set to " + this.host + ":" + this.port);
    }
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be in 1..65535: " + port);
    }
    this.host = host;
    this.port = port;
    return this;
  }

  /** Prefix of every Redis key (default {@code "foley4j:"}); may be empty. */
  public RedisCacheBuilder keyPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (this.prefix != null) {
      throw new IllegalStateException("key prefix was already set to '" + this.prefix + "'");
    }
    this.prefix = prefix;
    return this;
  }

  /** Time to live of each stored entry, at least 1 ms (default 7 days). */
  public RedisCacheBuilder timeToLive(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (this.ttl != null) {
      throw new IllegalStateException("time to live was already set to " + this.ttl);
    }
    if (ttl.toMillis() < 1) {
      throw new IllegalArgumentException("time to live must be at least 1 ms: " + ttl);
    }
    this.ttl = ttl;
    return this;
  }

  /** Largest stored value in bytes, 1 to 512 MiB (default 64 MiB); larger entries are not stored. */
  public RedisCacheBuilder maximumValueBytes(int maximumValueBytes) {
    if (this.maximumValueBytes != -1) {
      throw new IllegalStateException("maximum value bytes was already set to " + this.maximumValueBytes);
    }
    if (maximumValueBytes < 1 || maximumValueBytes > (512 << 20)) {
      throw new IllegalArgumentException("maximum value bytes must be in 1..536870912: " + maximumValueBytes);
    }
    this.maximumValueBytes = maximumValueBytes;
    return this;
  }

  /** How long a get or put waits for Redis before giving up, 1 ms to 1 min (default 200 ms). */
  public RedisCacheBuilder commandTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (this.commandTimeout != null) {
      throw new IllegalStateException("command timeout was already set to " + this.commandTimeout);
    }
    if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("command timeout must be in 1 ms..1 min: " + timeout);
    }
    this.commandTimeout = timeout;
    return this;
  }

  /** How long one connection attempt may take, 1 ms to 1 min (default 2 s); never blocks a caller. */
  public RedisCacheBuilder connectTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (this.connectTimeout != null) {
      throw new IllegalStateException("connect timeout was already set to " + this.connectTimeout);
    }
    if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("connect timeout must be in 1 ms..1 min: " + timeout);
    }
    this.connectTimeout = timeout;
    return this;
  }

  /**
   * Creates the client and starts connecting in the background; returns at once.
   *
   * @throws IllegalStateException if both a URI and a host were set, or Lettuce is not on the class path
   * @throws IllegalArgumentException if the URI cannot be parsed
   */
  public CloseableTensorCache build() {
    if (uri != null && host != null) {
      throw new IllegalStateException("set either uri or host, not both (uri " + redact(uri) + ", host " + host + ")");
    }
    try {
      Class.forName("io.lettuce.core.RedisClient", false, RedisCacheBuilder.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalStateException(
          "TensorCaches.redis() needs io.lettuce:lettuce-core on the class path (foley-cache declares it optional)", e);
    }
    RedisTensorCache.Settings settings = new RedisTensorCache.Settings(
        uri, host == null ? "localhost" : host, host == null ? 6379 : port,
        prefix == null ? DEFAULT_PREFIX : prefix,
        ttl == null ? DEFAULT_TTL : ttl,
        maximumValueBytes == -1 ? DEFAULT_MAXIMUM_VALUE_BYTES : maximumValueBytes,
        commandTimeout == null ? DEFAULT_COMMAND_TIMEOUT : commandTimeout,
        connectTimeout == null ? DEFAULT_CONNECT_TIMEOUT : connectTimeout);
    return new RedisTensorCache(settings);
  }

  /** The URI without a password. */
  static String redact(String uri) {
    return uri.replaceAll("//[^/@]*@", "//***@");
  }
}
