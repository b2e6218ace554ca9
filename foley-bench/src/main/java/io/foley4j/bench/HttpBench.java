package io.foley4j.bench;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyRequest;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.server.FoleyService;
import io.foley4j.server.ServiceConfig;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSources;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench http}: many concurrent HTTP clients against one {@code foley serve} node on
 * loopback for a fixed time (each submits a job, follows its SSE stream until done, and submits the next), then
 * the same clients against the engine alone: status codes, p50/p99 latency and throughput of both.
 */
@Command(name = "http", mixinStandardHelpOptions = true,
    description = "Load test of foley serve on loopback against the engine alone: status codes, p50/p99, jobs/s.")
final class HttpBench implements Callable<Integer> {
  private static final Pattern ID = Pattern.compile("\"id\":\"(\\w+)\"");

  @Option(names = "--clients", defaultValue = "64", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--seconds", defaultValue = "30", description = "Duration of each phase (default ${DEFAULT-VALUE}).")
  int seconds;

  @Option(names = "--steps", defaultValue = "4", description = "Denoiser steps per job (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--video-seconds", defaultValue = "1", description = "Length of each job's video.")
  double videoSeconds;

  @Option(names = "--max-concurrent", defaultValue = "16", description = "Engine jobs running at once.")
  int maxConcurrent;

  @Option(names = "--max-queued", defaultValue = "32",
      description = "Engine queue; beyond it the service answers 503 (deliberate; default ${DEFAULT-VALUE}).")
  int maxQueued;

  @Override
  public Integer call() throws Exception {
    if (clients < 1 || seconds < 1 || steps < 1) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--clients, --seconds and --steps must be >= 1");
    }
    Path dir = Files.createTempDirectory("foley-bench-http-");
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(videoSeconds).flash(videoSeconds / 3, 0.1, 0xFFFFFF).build(), video);
    byte[] videoBytes = Files.readAllBytes(video);
    AtomicLong seeds = new AtomicLong();
    System.out.printf(Locale.ROOT, "%d clients, %d s per phase, %.1f s videos, %d steps, engine: %d running, %d queued%n",
        clients, seconds, videoSeconds, steps, maxConcurrent, maxQueued);
    try (ModelBundle bundle = ReferenceModel.bundle()) {
      Phase http;
      try (FoleyService service = FoleyService.start(ServiceConfig.defaults(dir.resolve("data")), engine(bundle),
          JcodecVideoSources.jcodec())) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        http = run(() -> {
          long seed = seeds.incrementAndGet(); // unique: no identical request is answered from results
          String boundary = "bench" + seed;
          HttpResponse<String> r = client.send(HttpRequest.newBuilder(service.uri().resolve("/v1/jobs"))
              .header("Content-Type", "multipart/form-data; boundary=" + boundary)
              .POST(HttpRequest.BodyPublishers.ofByteArray(form(boundary, videoBytes, seed))).build(),
              HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 202) {
            return r.statusCode();
          }
          Matcher m = ID.matcher(r.body());
          m.find();
          // follow the job's SSE stream to its end, as the web page does (no polling)
          HttpResponse<java.util.stream.Stream<String>> sse = client.send(HttpRequest.newBuilder(
              service.uri().resolve("/v1/jobs/" + m.group(1) + "/events")).header("Accept", "text/event-stream")
              .build(), HttpResponse.BodyHandlers.ofLines());
          if (sse.statusCode() != 200) {
            return sse.statusCode();
          }
          try (java.util.stream.Stream<String> lines = sse.body()) {
            String end = lines.filter(l -> l.startsWith("event: done") || l.startsWith("event: failed")
                || l.startsWith("event: cancelled")).findFirst().orElse("event: none");
            return end.equals("event: done") ? 200 : 500;
          }
        });
      }
      Phase alone;
      try (FoleyEngine engine = engine(bundle).build()) {
        alone = run(() -> {
          FoleyJob job = engine.submit(FoleyRequest.builder(video).prompt("bench").steps(steps)
              .seed(seeds.incrementAndGet()).build());
          try {
            job.await();
            return 200;
          } catch (FoleyException e) {
            return e.code() == FoleyException.Code.REJECTED ? 503 : 500;
          }
        });
      }
      print("http", http);
      print("engine alone", alone);
      System.out.printf(Locale.ROOT, "http / engine alone: throughput %.2f, p50 %.2f, p99 %.2f%n",
          http.throughput() / alone.throughput(), http.percentile(50) / alone.percentile(50),
          http.percentile(99) / alone.percentile(99));
      long other5xx = http.codes.entrySet().stream().filter(e -> e.getKey() >= 500 && e.getKey() != 503)
          .mapToLong(e -> e.getValue().get()).sum();
      System.out.println(other5xx == 0 ? "no 5xx except deliberate 503s" : other5xx + " unexpected 5xx answers");
      return other5xx == 0 ? 0 : 1;
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private FoleyEngine.Builder engine(ModelBundle bundle) {
    return FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()).maxConcurrentRequests(maxConcurrent)
        .maxQueuedRequests(maxQueued);
  }

  private byte[] form(String boundary, byte[] video, long seed) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String[] f : new String[][] {{"prompt", "bench"}, {"steps", Integer.toString(steps)},
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

  /** One client's request: returns the final status (200 done, 503 refused, ...). */
  private interface Call {
    int run() throws Exception;
  }

  private record Phase(List<Long> latencies, Map<Integer, AtomicLong> codes, double elapsed) {
    double throughput() {
      return latencies.size() / elapsed;
    }

    double percentile(int p) {
      if (latencies.isEmpty()) {
        return Double.NaN;
      }
      List<Long> s = new ArrayList<>(latencies);
      Collections.sort(s);
      return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1)) / 1e6;
    }
  }

  private Phase run(Call call) throws InterruptedException {
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    Map<Integer, AtomicLong> codes = new ConcurrentHashMap<>();
    long start = System.nanoTime();
    long end = start + Duration.ofSeconds(seconds).toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Thread t = new Thread(() -> {
        while (System.nanoTime() < end) {
          long t0 = System.nanoTime();
          int code;
          try {
            code = call.run();
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            code = -1; // connection failure
          }
          codes.computeIfAbsent(code, c -> new AtomicLong()).incrementAndGet();
          if (code == 200) {
            latencies.add(System.nanoTime() - t0);
          } else {
            try {
              Thread.sleep(100); // back off as Retry-After asks (in ms here, to keep the pressure on)
            } catch (InterruptedException e) {
              return;
            }
          }
        }
      }, "bench-client-" + i);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    return new Phase(latencies, codes, (System.nanoTime() - start) / 1e9);
  }

  private static void print(String name, Phase p) {
    Map<Integer, Long> codes = new TreeMap<>();
    p.codes().forEach((k, v) -> codes.put(k, v.get()));
    System.out.printf(Locale.ROOT, "%-13s %5d jobs in %.1f s = %6.2f jobs/s, latency p50 %7.1f ms, p99 %7.1f ms, "
        + "answers %s%n", name, p.latencies().size(), p.elapsed(), p.throughput(), p.percentile(50),
        p.percentile(99), codes);
  }
}
