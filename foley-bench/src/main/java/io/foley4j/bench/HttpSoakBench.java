package io.foley4j.bench;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.JcodecVideoSources;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.server.FoleyService;
import io.foley4j.server.ServiceConfig;
import io.foley4j.video.SyntheticVideo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench http-soak}: a soak of the HTTP service. An in-process {@code foley serve}
 * (FoleyService on loopback, reference model, jcodec) with a short retention, so that expiry runs
 * during the soak; {@code --requests} jobs over HTTP in rounds of {@code --every} on {@code
 * --concurrency} clients (submit, follow the SSE stream to its end, download the audio). Between
 * rounds, with nothing in flight, it prints the server process's RSS (VmRSS of /proc/self/status:
 * the service runs in this JVM), heap in use after a GC, live threads, open fds (/proc/self/fd), regular files under
 * the service's data directory (uploads and results), overdue files (older than 2 × retention + 5 s)
 * and the bytes of the service's result cache ({@code --result-cache-mb}, small by default so that
 * it is full before the warm-up ends: a cache filling with unique requests is not a leak); at the
 * end the slope of each per 100 requests over the samples after the warm-up, then waits for
 * retention to expire everything. Exits 1 when a bounded slope exceeds its bound, a request fails,
 * or files remain after retention.
 */
@Command(name = "http-soak", mixinStandardHelpOptions = true,
    description = "Soak of foley serve over HTTP with short retention: RSS, threads, fds and files on disk every N "
        + "requests, slopes after warm-up, non-zero exit past the bounds.")
final class HttpSoakBench implements Callable<Integer> {
  static final String[] COLUMNS = {"requests", "rss MB", "heap MB", "threads", "fds", "files", "overdue",
      "cache MB"};
  private static final Pattern ID = Pattern.compile("\"id\":\"(\\w+)\"");
  private static final Pattern CACHE_BYTES = Pattern.compile("(?m)^foley_cache_bytes\\{cache=\"result\"\\} (\\S+)$");

  @Option(names = "--requests", defaultValue = "1000", description = "Requests in all (default ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--concurrency", defaultValue = "4",
      description = "HTTP clients and the engine's maxConcurrentRequests (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--every", defaultValue = "50", description = "Sample every this many requests (default ${DEFAULT-VALUE}).")
  int every;

  @Option(names = "--steps", defaultValue = "1", description = "Denoiser steps per job (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--video-seconds", defaultValue = "0.5", description = "Length of each job's video (default ${DEFAULT-VALUE}).")
  double videoSeconds;

  @Option(names = "--retention-ms", defaultValue = "2000",
      description = "The service's retention in ms; expiry sweeps every quarter of it (default ${DEFAULT-VALUE}).")
  long retentionMs;

  @Option(names = "--result-cache-mb", defaultValue = "16",
      description = "The service's result cache bound in MB (foley serve --result-cache; default ${DEFAULT-VALUE}, so "
          + "that the cache is full before the warm-up ends and the heap slope shows what is not bounded; 0: none).")
  long resultCacheMb;

  @Option(names = "--warmup", defaultValue = "0.25",
      description = "Fraction of the requests before the slopes are taken (default ${DEFAULT-VALUE}).")
  double warmup;

  @Option(names = "--max-rss-mb", defaultValue = "8", description = "Bound on RSS growth, MB per 100 requests.")
  double maxRssMb;

  @Option(names = "--max-heap-mb", defaultValue = "2",
      description = "Bound on growth of the heap in use after a GC, MB per 100 requests.")
  double maxHeapMb;

  @Option(names = "--max-threads", defaultValue = "1", description = "Bound on live thread growth per 100 requests.")
  double maxThreads;

  @Option(names = "--max-fds", defaultValue = "1", description = "Bound on open fd growth per 100 requests.")
  double maxFds;

  @Option(names = "--max-files", defaultValue = "0.5", description = "Bound on the growth of overdue files (files on "
      + "disk last modified more than 2 x retention + 5 s ago, which retention should have removed) per 100 requests"
      + " (default ${DEFAULT-VALUE}). The files column itself follows the throughput of the last round and is not"
      + " bounded.")
  double maxFiles;

  @Override
  public Integer call() throws Exception {
    if (requests < 1 || concurrency < 1 || every < 1 || steps < 1 || !(videoSeconds > 0) || retentionMs < 1
        || !(warmup >= 0 && warmup < 1) || resultCacheMb < 0) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--requests, --concurrency, --every, --steps, "
          + "--video-seconds and --retention-ms must be positive, --result-cache-mb >= 0 and --warmup in [0, 1)");
    }
    PrintStream out = System.out;
    Path dir = Files.createTempDirectory("foley-http-soak-");
    Path data = dir.resolve("data");
    int failed = 0;
    try {
      Path video = dir.resolve("clip.mp4");
      SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).durationSeconds(videoSeconds)
          .flash(videoSeconds / 2, 0.08, 0xFFFFFF).build(), video);
      byte[] videoBytes = Files.readAllBytes(video);
      out.printf(Locale.ROOT, "http-soak: %d requests, %d clients, %d steps, %.2f s 64x48 video, retention %d ms, "
          + "result cache %d MB, %d cores, max heap %d MB%n", requests, concurrency, steps, videoSeconds, retentionMs,
          resultCacheMb, Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
      List<double[]> samples = new ArrayList<>();
      long filesAfter;
      try (ModelBundle bundle = ReferenceModel.bundle();
          FoleyService service = FoleyService.start(ServiceConfig.defaults(data)
              .withRetention(Duration.ofMillis(retentionMs)).withResultCacheBytes(resultCacheMb << 20),
              FoleyEngine.builder().bundle(bundle)
              .backend(Backends.cpu()).maxConcurrentRequests(concurrency).maxQueuedRequests(4 * concurrency),
              JcodecVideoSources.jcodec())) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        long t0 = System.nanoTime();
        try {
          job(client, service, videoBytes, requests + 1L); // warm-up, not counted (its own seed)
          out.printf("%8s %9s %9s %8s %6s %6s %8s %9s%n", (Object[]) COLUMNS);
          samples.add(sample(0, data, out, client, service, overdueAge()));
          for (int done = 0; done < requests; ) {
            int round = Math.min(every, requests - done);
            List<Future<Boolean>> futures = new ArrayList<>();
            for (int i = 0; i < round; i++) {
              long seed = done + i;
              futures.add(pool.submit(() -> job(client, service, videoBytes, seed)));
            }
            for (Future<Boolean> f : futures) {
              try {
                if (!f.get()) {
                  failed++;
                }
              } catch (ExecutionException e) {
                failed++;
                out.println("request failed: " + e.getCause());
              }
            }
            done += round;
            samples.add(sample(done, data, out, client, service, overdueAge()));
          }
        } finally {
          pool.shutdownNow();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        out.printf(Locale.ROOT, "%d requests in %.1f s (%.2f requests/s), %d failed%n", requests, wall,
            requests / wall, failed);
        // everything must expire: wait up to retention + two sweeps + slack
        long deadline = System.nanoTime() + Duration.ofMillis(2 * retentionMs + 2000).toNanos();
        do {
          Thread.sleep(Math.max(50, retentionMs / 8));
          filesAfter = files(data);
        } while (filesAfter > 0 && System.nanoTime() < deadline);
        out.printf(Locale.ROOT, "files after retention: %d%n", filesAfter);
      }
      double from = warmup * requests;
      // the cache column is shown, not bounded: it grows up to --result-cache-mb by design
      // nor the files column: how many files the last round left within their retention depends on its throughput
      double[] bounds = {0, maxRssMb, maxHeapMb, maxThreads, maxFds, Double.POSITIVE_INFINITY, maxFiles,
          Double.POSITIVE_INFINITY};
      boolean ok = failed == 0 && filesAfter == 0;
      out.printf(Locale.ROOT, "slopes per 100 requests (least squares over samples from request %.0f on):%n", from);
      for (int c = 1; c < COLUMNS.length; c++) {
        double s = 100 * SoakBench.slope(samples, c, from);
        boolean within = s <= bounds[c];
        ok &= within;
        out.printf(Locale.ROOT, "  %-10s %+9.3f  (%s%s)%n", COLUMNS[c], s, !Double.isInfinite(bounds[c])
            ? String.format(Locale.ROOT, "bound %.3f", bounds[c]) : COLUMNS[c].equals("files")
            ? "no bound: see overdue" : "no bound: at most --result-cache-mb", within ? "" : ", EXCEEDED");
      }
      out.println(ok ? "http-soak: OK" : "http-soak: FAILED");
      return ok ? 0 : 1;
    } finally {
      ModelBundle.deleteQuietly(dir);
    }
  }

  /** One client's job: submit, follow its SSE stream to the end, download the audio; true when all went well. */
  private boolean job(HttpClient client, FoleyService service, byte[] video, long seed) throws Exception {
    String boundary = "soak" + (seed + 2);
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(service.uri().resolve("/v1/jobs"))
        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(form(boundary, video, seed))).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 202) {
      System.out.println("submit answered " + r.statusCode() + ": " + r.body());
      return false;
    }
    Matcher m = ID.matcher(r.body());
    if (!m.find()) {
      return false;
    }
    String id = m.group(1);
    HttpResponse<Stream<String>> sse = client.send(HttpRequest.newBuilder(service.uri().resolve("/v1/jobs/" + id
        + "/events")).header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines());
    if (sse.statusCode() != 200) {
      return false;
    }
    String end;
    try (Stream<String> lines = sse.body()) {
      end = lines.filter(l -> l.startsWith("event: done") || l.startsWith("event: failed")
          || l.startsWith("event: cancelled")).findFirst().orElse("event: none");
    }
    if (!end.equals("event: done")) {
      System.out.println("job " + id + " ended with " + end);
      return false;
    }
    HttpResponse<byte[]> audio = client.send(HttpRequest.newBuilder(service.uri().resolve("/v1/jobs/" + id + "/audio"))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
    return audio.statusCode() == 200 && audio.body().length > 44;
  }

  private byte[] form(String boundary, byte[] video, long seed) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String[] f : new String[][] {{"prompt", "soak " + (seed % 7)}, {"steps", Integer.toString(steps)},
        {"seed", Long.toString(seed)}}) {
      out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f[0] + "\"\r\n\r\n" + f[1]
          + "\r\n").getBytes(StandardCharsets.UTF_8));
    }
    out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n"
        + "Content-Type: video/mp4\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    out.writeBytes(video);
    out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  /**
   * One row: requests done, RSS MB, heap in use after a GC MB, live threads, open fds, regular files
   * under the data directory, and the bytes the service's result cache holds (its
   * {@code foley_cache_bytes{cache="result"}} gauge; 0 without a cache).
   */
  private static double[] sample(int done, Path data, PrintStream out, HttpClient client, FoleyService service,
      Duration overdue) throws IOException, InterruptedException {
    String metrics = client.send(HttpRequest.newBuilder(service.uri().resolve("/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = CACHE_BYTES.matcher(metrics);
    double cacheMb = m.find() ? Double.parseDouble(m.group(1)) / 1048576.0 : 0;
    System.gc();
    double[] row = {done, SoakBench.rssKb() / 1024.0,
        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0,
        ManagementFactory.getThreadMXBean().getThreadCount(), SoakBench.openFds(), files(data),
        filesOlderThan(data, java.time.Instant.now().minus(overdue)), cacheMb};
    out.printf(Locale.ROOT, "%8d %9.1f %9.1f %8.0f %6.0f %6.0f %8.0f %9.1f%n", done, row[1], row[2], row[3], row[4],
        row[5], row[6], row[7]);
    return row;
  }

  /** The age past which a file should have been removed by retention: 2 × retention + 5 s. */
  private Duration overdueAge() {
    return Duration.ofMillis(2 * retentionMs + 5000);
  }

  /** Regular files under {@code data} last modified before {@code limit}. */
  static long filesOlderThan(Path data, java.time.Instant limit) throws IOException {
    if (!Files.isDirectory(data)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(data)) {
      return s.filter(Files::isRegularFile).filter(p -> {
        try {
          return Files.getLastModifiedTime(p).toInstant().isBefore(limit);
        } catch (IOException e) {
          return false; // expired meanwhile
        }
      }).count();
    } catch (java.io.UncheckedIOException e) {
      return filesOlderThan(data, limit);
    }
  }

  /** Regular files under {@code data} (uploads, results), 0 when it does not exist. */
  static long files(Path data) throws IOException {
    if (!Files.isDirectory(data)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(data)) {
      return s.filter(Files::isRegularFile).count();
    } catch (java.io.UncheckedIOException e) {
      return files(data); // a file expired while walking: count again
    }
  }
}
