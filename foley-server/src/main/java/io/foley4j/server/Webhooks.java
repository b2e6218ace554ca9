package io.foley4j.server;

import io.foley4j.FoleyException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * POSTs a finished job's JSON to its callback URL on a thread of its own, with a bounded timeout
 * per attempt and exponential backoff between attempts (200 ms, 400 ms, ...). A 2xx answer ends
 * it; anything else is retried until the attempts run out, then logged.
 */
final class Webhooks implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Webhooks.class.getName());
  private final Duration timeout;
  private final int attempts;
  private final Set<String> hosts;
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "foley-serve-webhook");
    t.setDaemon(true);
    return t;
  });
  private final HttpClient client;

  Webhooks(Duration timeout, int attempts, Set<String> hosts) {
    this.timeout = timeout;
    this.attempts = attempts;
    this.hosts = hosts;
    this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** Checks a callback URL given with a job; null or blank means none. */
  String check(String url) {
    if (url == null || url.isBlank()) {
      return null;
    }
    URI uri;
    try {
      uri = URI.create(url.strip());
    } catch (IllegalArgumentException e) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "webhook is not a URL: " + url);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT,
          "webhook must be an http or https URL with a host, got " + url);
    }
    if (!hosts.isEmpty() && !hosts.contains(uri.getHost().toLowerCase(Locale.ROOT))) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "webhook host " + uri.getHost()
          + " is not allowed here; allowed: " + String.join(", ", hosts));
    }
    return uri.toString();
  }

  /** Delivers in the background; returns at once. */
  void deliver(String url, String json) {
    if (executor.isShutdown()) {
      return;
    }
    executor.execute(() -> {
      for (int i = 0; i < attempts; i++) {
        try {
          HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout)
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
              HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() / 100 == 2) {
            return;
          }
          LOG.fine(() -> "webhook " + url + " answered " + r.statusCode());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (Exception e) {
          LOG.fine(() -> "webhook " + url + " failed: " + e);
        }
        try {
          Thread.sleep(200L << i);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      LOG.log(Level.WARNING, "webhook {0} failed {1} times; giving up", new Object[] {url, attempts});
    });
  }

  @Override
  public void close() {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
