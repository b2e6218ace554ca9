package io.foley4j.server;

import io.foley4j.FoleyException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * What a {@link FoleyService} is set up with.
 *
 * @param host the address to bind (e.g. 127.0.0.1 or 0.0.0.0)
 * @param port the port; 0 picks a free one
 * @param dataDir where uploads and results are written (a shared directory when many nodes run)
 * @param maxUploadBytes the largest video accepted; bigger uploads get 413
 * @param retention how long a finished job and its files are kept
 * @param apiKeys accepted API keys; empty: no key needed
 * @param ratePerSecond requests per second per client (API key, else IP); 0: no limit
 * @param rateBurst the burst a client may send at once
 * @param webhookTimeout how long one webhook POST may take
 * @param webhookAttempts how many times a webhook is tried
 * @param webhookHosts the host names a webhook may target; empty: any
 * @param drainTimeout how long graceful shutdown waits for running jobs before cancelling them
 * @param redis a Redis URI for many nodes on one stream, or null for one node
 * @param nodeId this node's consumer name in the stream's group
 * @param visibilityTimeout how long a job may stay unacknowledged before another node reclaims it
 * @param workerJobs with Redis, how many stream entries this node's worker holds at once
 * @param adminKeys API keys that may see, download and cancel every key's jobs (they are accepted keys too)
 * @param maxVideoDuration the longest video accepted, applied to the engine; longer uploads get 400
 * @param resultCacheBytes the bound of the engine's in-memory result cache (identical requests after
 *     retention are answered from it); 0: no result cache
 */
public record ServiceConfig(String host, int port, Path dataDir, long maxUploadBytes, Duration retention,
    Set<String> apiKeys, double ratePerSecond, int rateBurst, Duration webhookTimeout, int webhookAttempts,
    Set<String> webhookHosts, Duration drainTimeout, URI redis, String nodeId, Duration visibilityTimeout, int workerJobs,
    Set<String> adminKeys, Duration maxVideoDuration, long resultCacheBytes) {

  /** The result cache's bound unless told otherwise: 256 MiB. */
  public static final long DEFAULT_RESULT_CACHE_BYTES = 256L << 20;

  public ServiceConfig {
    if (host == null || host.isBlank()) {
      throw invalid("host must not be blank");
    }
    if (port < 0 || port > 65535) {
      throw invalid("port must be in 0..65535, got " + port);
    }
    if (dataDir == null) {
      throw invalid("a data directory is needed for uploads and results");
    }
    if (maxUploadBytes < 1024) {
      throw invalid("the upload limit must be at least 1 KB, got " + maxUploadBytes + " bytes");
    }
    requirePositive("retention", retention);
    requirePositive("webhook timeout", webhookTimeout);
    requirePositive("drain timeout", drainTimeout);
    requirePositive("visibility timeout", visibilityTimeout);
    if (!(ratePerSecond >= 0) || rateBurst < 1) {
      throw invalid("the rate must be >= 0 requests/s with a burst >= 1, got " + ratePerSecond + "/" + rateBurst);
    }
    if (webhookAttempts < 1 || webhookAttempts > 10) {
      throw invalid("webhook attempts must be in 1..10, got " + webhookAttempts);
    }
    if (nodeId == null || !nodeId.matches("[A-Za-z0-9._-]{1,64}")) {
      throw invalid("a node id is 1..64 letters, digits, '.', '_' or '-', got " + nodeId);
    }
    if (workerJobs < 1 || workerJobs > 1024) {
      throw invalid("worker jobs must be in 1..1024, got " + workerJobs);
    }
    requirePositive("max video duration", maxVideoDuration);
    if (resultCacheBytes < 0) {
      throw invalid("the result cache size must be >= 0 bytes (0: no result cache), got " + resultCacheBytes);
    }
    apiKeys = Set.copyOf(apiKeys);
    adminKeys = Set.copyOf(adminKeys);
    webhookHosts = Set.copyOf(webhookHosts);
  }

  /**
   * Defaults for one node on loopback: a free port, 500 MB uploads, videos up to 10 minutes, results
   * kept one hour, no keys.
   */
  public static ServiceConfig defaults(Path dataDir) {
    return new ServiceConfig("127.0.0.1", 0, dataDir, 500L << 20, Duration.ofHours(1), Set.of(), 0, 1,
        Duration.ofSeconds(5), 3, Set.of(), Duration.ofSeconds(30), null, "node-" + ProcessHandle.current().pid(),
        Duration.ofSeconds(60), 4, Set.of(), Duration.ofMinutes(10), DEFAULT_RESULT_CACHE_BYTES);
  }

  public ServiceConfig withPort(int p) {
    return new ServiceConfig(host, p, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withHost(String h) {
    return new ServiceConfig(h, port, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withMaxUpload(long bytes) {
    return new ServiceConfig(host, port, dataDir, bytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withRetention(Duration d) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, d, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withApiKeys(Set<String> keys) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, keys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withRate(double perSecond, int burst) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, apiKeys, perSecond, burst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withWebhooks(Duration timeout, int attempts, Set<String> hosts) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        timeout, attempts, hosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withDrainTimeout(Duration d) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, d, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withWorkerJobs(int n) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, n,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withRedis(URI uri, String node, Duration visibility) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, uri, node, visibility, workerJobs,
        adminKeys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withAdminKeys(Set<String> keys) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        keys, maxVideoDuration, resultCacheBytes);
  }

  public ServiceConfig withMaxVideoDuration(Duration d) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, d, resultCacheBytes);
  }

  /** With the engine's result cache bounded to {@code bytes} (0: none). */
  public ServiceConfig withResultCacheBytes(long bytes) {
    return new ServiceConfig(host, port, dataDir, maxUploadBytes, retention, apiKeys, ratePerSecond, rateBurst,
        webhookTimeout, webhookAttempts, webhookHosts, drainTimeout, redis, nodeId, visibilityTimeout, workerJobs,
        adminKeys, maxVideoDuration, bytes);
  }

  private static void requirePositive(String what, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw invalid(what + " must be positive, got " + d);
    }
  }

  private static FoleyException invalid(String message) {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, message);
  }
}
