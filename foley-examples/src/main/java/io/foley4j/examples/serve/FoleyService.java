package io.foley4j.examples.serve;

import com.google.gson.JsonObject;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.Priority;
import io.foley4j.cache.TensorCache;
import io.foley4j.cachestore.TensorCaches;
import io.foley4j.micrometer.FoleyEngineMetrics;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Foley HTTP service on one {@link FoleyEngine}: jobs over REST, progress over SSE, the
 * results as WAV and as the video with its new sound, health, Prometheus metrics and a web page.
 * See docs/operations.md for the API and how to run it.
 *
 * <p>Threads: Jetty's pool serves requests (an SSE stream holds one of its threads while it is
 * open); the engine's callbacks only update a {@link JobRecord}; finished jobs are written out on
 * the service's own "finisher" threads, webhooks on their own thread, expiry on a scheduler.
 */
public final class FoleyService implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(FoleyService.class.getName());
  private static final Pattern RETRY_MS = Pattern.compile("retry in (\\d+) ms|another (\\d+) ms");

  private final ServiceConfig config;
  private final VideoSourceFactory probe;
  private final Path uploads;
  private final Path results;
  private final ClientLimits limits;
  private final Webhooks webhooks;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, JobRecord> jobs = new ConcurrentHashMap<>();
  private final Map<String, String> doneByKey = new ConcurrentHashMap<>();
  private final ExecutorService finisher = Executors.newFixedThreadPool(2, named("foley-serve-finisher"));
  private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
      named("foley-serve-expiry"));
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Counter submitted;
  private final Counter cacheAnswered;
  private volatile boolean ready;
  private volatile FoleyEngine engine;
  private TensorCache resultCache;
  private Javalin app;

  private FoleyService(ServiceConfig config, VideoSourceFactory probe) {
    this.config = config;
    this.probe = probe;
    this.uploads = config.dataDir().resolve("uploads");
    this.results = config.dataDir().resolve("results");
    this.limits = new ClientLimits(config.ratePerSecond(), config.rateBurst());
    this.webhooks = new Webhooks(config.webhookTimeout(), config.webhookAttempts(), config.webhookHosts());
    this.submitted = Counter.builder("foley.serve.jobs.submitted").register(registry);
    this.cacheAnswered = Counter.builder("foley.serve.jobs.answered.from.results")
        .description("requests answered 200 with an identical earlier job's result").register(registry);
  }

  /**
   * Starts the HTTP server (live at once, ready once the engine is built and warmed), then builds
   * the engine from {@code engineBuilder} with this service's metrics listener and result cache
   * and the given video reader, and returns once it is ready. The service owns the engine.
   */
  public static FoleyService start(ServiceConfig config, FoleyEngine.Builder engineBuilder,
      VideoSourceFactory videoSources) {
    FoleyService s = new FoleyService(config, videoSources);
    try {
      s.startHttp();
      s.startEngine(engineBuilder);
      return s;
    } catch (RuntimeException | Error e) {
      s.close();
      throw e;
    }
  }

  private void startHttp() {
    try {
      Files.createDirectories(uploads);
      Files.createDirectories(results);
      Files.createDirectories(config.dataDir().resolve("tmp"));
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot create the data directory " + config.dataDir()
          + ": " + e, e);
    }
    app = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.jetty.multipartConfig.cacheDirectory(config.dataDir().resolve("tmp").toString());
      c.jetty.multipartConfig.maxFileSize(config.maxUploadBytes(), SizeUnit.BYTES);
      c.jetty.multipartConfig.maxInMemoryFileSize(64 * 1024, SizeUnit.BYTES);
      c.jetty.multipartConfig.maxTotalRequestSize(config.maxUploadBytes() + (1 << 20), SizeUnit.BYTES);
      c.routes.get("/", ctx -> ctx.html(page()));
      c.routes.get("/health/live", ctx -> ctx.json("{\"status\":\"live\"}"));
      c.routes.get("/health/ready", this::ready);
      c.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
          .result(registry.scrape()));
      c.routes.post("/v1/jobs", this::submit);
      c.routes.get("/v1/jobs/{id}", ctx -> json(ctx, 200, record(ctx).toJson()));
      c.routes.get("/v1/jobs/{id}/events", this::events);
      c.routes.get("/v1/jobs/{id}/audio", this::audio);
      c.routes.get("/v1/jobs/{id}/video", this::video);
      c.routes.delete("/v1/jobs/{id}", this::cancel);
      c.routes.exception(HttpError.class, (e, ctx) -> error(ctx, e.status, e.code, e.getMessage(), e.retryAfter));
      c.routes.exception(FoleyException.class, (e, ctx) -> {
        int status = switch (e.code()) {
          case INVALID_ARGUMENT, UNSUPPORTED_VIDEO, CORRUPT_VIDEO -> 400;
          case REJECTED, CLOSED -> 503;
          default -> 500;
        };
        error(ctx, status, e.code().name(), e.getMessage(), status == 503 ? retryAfter(e) : 0);
      });
      c.routes.exception(Exception.class, (e, ctx) -> {
        LOG.log(Level.WARNING, "request " + ctx.method() + " " + ctx.path() + " failed", e);
        error(ctx, 500, "INTERNAL", "internal error: " + e, 0);
      });
    });
    app.start(config.host(), config.port());
  }

  private void startEngine(FoleyEngine.Builder builder) {
    FoleyEngineMetrics metrics = new FoleyEngineMetrics();
    resultCache = TensorCaches.memory().maximumBytes(256L << 20).build();
    FoleyEngine e = builder.eventListener(metrics.eventListener()).resultCache(resultCache).videoSources(probe)
        .build();
    engine = e;
    metrics.engine(e).cache("result", resultCache).bindTo(registry);
    long sweep = Math.max(100, Math.min(30_000, config.retention().toMillis() / 4));
    sweeper.scheduleWithFixedDelay(this::expire, sweep, sweep, TimeUnit.MILLISECONDS);
    ready = true;
  }

  /** The port the server listens on. */
  public int port() {
    return app.port();
  }

  /** The base URI, e.g. http://127.0.0.1:8080. */
  public URI uri() {
    String host = config.host().equals("0.0.0.0") ? "127.0.0.1" : config.host();
    return URI.create("http://" + host + ":" + port());
  }

  /** The engine (for stats); closed with the service. */
  public FoleyEngine engine() {
    return engine;
  }

  // ---------------------------------------------------------------- handlers

  private void ready(Context ctx) {
    if (ready && !draining.get()) {
      ctx.json("{\"status\":\"ready\"}");
    } else {
      error(ctx, 503, "NOT_READY", draining.get() ? "shutting down: send work to another node"
          : "the engine is still loading and warming up", 1);
    }
  }

  private void submit(Context ctx) throws IOException {
    String client = authorize(ctx);
    if (draining.get() || !ready) {
      throw new HttpError(503, "UNAVAILABLE", draining.get() ? "this node is shutting down; send the job to "
          + "another node" : "the engine is still warming up; retry shortly", 1);
    }
    long wait = limits.tryAcquire(client);
    if (wait > 0) {
      throw new HttpError(429, "RATE_LIMITED", "too many jobs from this client (" + config.ratePerSecond()
          + " per second, burst " + config.rateBurst() + "); retry in " + wait + " s", wait);
    }
    long length = ctx.req().getContentLengthLong();
    if (length > config.maxUploadBytes() + (1 << 20)) {
      throw tooLarge(length);
    }
    String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
    if (!contentType.startsWith("multipart/form-data")) {
      throw new HttpError(400, "INVALID_ARGUMENT", "send the job as multipart/form-data with a 'video' file part "
          + "and optional prompt, negative_prompt, steps, cfg, seed, priority and webhook fields", 0);
    }
    String id = UUID.randomUUID().toString().replace("-", "");
    Path video = uploads.resolve(id + ".mp4");
    boolean keep = false;
    try {
      UploadedFile file;
      FoleyRequest.Builder rb;
      String webhook;
      String digest;
      try {
        file = ctx.uploadedFile("video");
        if (file == null) {
          throw new HttpError(400, "INVALID_ARGUMENT", "the multipart field 'video' (a file) is missing", 0);
        }
        digest = store(file, video);
        rb = FoleyRequest.builder(video).clientId(client);
        String prompt = ctx.formParam("prompt");
        if (prompt != null) {
          rb.prompt(prompt);
        }
        String negative = ctx.formParam("negative_prompt");
        if (negative != null && !negative.isEmpty()) {
          rb.negativePrompt(negative);
        }
        int steps = intParam(ctx, "steps");
        if (steps != -1) {
          rb.steps(steps);
        }
        rb.seed(longParam(ctx, "seed"));
        String cfg = ctx.formParam("cfg");
        if (cfg != null && !cfg.isBlank()) {
          rb.cfgScale(number(cfg, "cfg"));
        }
        rb.priority(priority(ctx.formParam("priority")));
        webhook = webhooks.check(ctx.formParam("webhook"));
      } catch (HttpError | FoleyException e) {
        throw e;
      } catch (Exception e) {
        if (isSizeLimit(e)) {
          throw tooLarge(length);
        }
        throw new HttpError(400, "INVALID_ARGUMENT", "cannot read the multipart upload: " + e.getMessage(), 0);
      }
      FoleyRequest request = rb.build();
      checkVideo(video);
      String key = requestKey(digest, request);
      String earlier = doneByKey.get(key);
      JobRecord prior = earlier == null ? null : jobs.get(earlier);
      if (prior != null && prior.status() == JobRecord.Status.DONE) {
        cacheAnswered.increment();
        json(ctx, 200, prior.toJson());
        return;
      }
      JobRecord rec = new JobRecord(id, key, video, client, webhook);
      FoleyJob job = engine.submit(request, rec);
      if (job.result().isCompletedExceptionally()) {
        FoleyException why = failure(job);
        throw why.code() == FoleyException.Code.REJECTED || why.code() == FoleyException.Code.CLOSED
            ? new HttpError(503, why.code().name(), why.getMessage(), retryAfter(why)) : why;
      }
      rec.attach(job);
      jobs.put(id, rec);
      keep = true;
      submitted.increment();
      job.result().whenCompleteAsync((r, e) -> finish(rec, r), finisher);
      ctx.header("Location", "/v1/jobs/" + id);
      json(ctx, 202, rec.toJson());
    } finally {
      if (!keep) {
        Files.deleteIfExists(video);
      }
    }
  }

  private void events(Context ctx) throws IOException, InterruptedException {
    JobRecord rec = record(ctx);
    ctx.status(200);
    ctx.res().setContentType("text/event-stream");
    ctx.res().setCharacterEncoding("utf-8");
    ctx.res().setHeader("Cache-Control", "no-cache");
    ctx.res().setHeader("X-Accel-Buffering", "no");
    OutputStream out = ctx.res().getOutputStream();
    out.write(("retry: 1000\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    int seen = 0;
    while (!closed.get()) {
      List<String> batch = rec.eventsFrom(seen, 15_000);
      if (batch.isEmpty()) {
        if (rec.complete(seen)) {
          break;
        }
        out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
      } else {
        for (String frame : batch) {
          out.write(frame.getBytes(StandardCharsets.UTF_8));
        }
        seen += batch.size();
      }
      out.flush();
      if (rec.complete(seen)) {
        break;
      }
    }
  }

  private void audio(Context ctx) throws IOException {
    JobRecord rec = finished(record(ctx));
    sendFile(ctx, results.resolve(rec.id + ".wav"), "audio/wav", rec.id + ".wav");
  }

  private void video(Context ctx) throws IOException {
    JobRecord rec = finished(record(ctx));
    Path mov = results.resolve(rec.id + ".mov");
    synchronized (rec) { // no user code runs here: only our own remux of our own files
      if (!Files.exists(mov)) {
        Path tmp = results.resolve(rec.id + ".mov.tmp");
        rec.result().writeVideoWithSound(tmp);
        Files.move(tmp, mov, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    sendFile(ctx, mov, "video/quicktime", rec.id + ".mov");
  }

  private void cancel(Context ctx) {
    authorize(ctx);
    JobRecord rec = record(ctx);
    FoleyJob job = rec.job();
    if (rec.status().terminal() || job == null || !job.cancel()) {
      throw new HttpError(409, "ALREADY_FINISHED", "job " + rec.id + " already finished (" + rec.status().json()
          + "); nothing to cancel", 0);
    }
    rec.failed(new FoleyException(FoleyException.Code.CANCELLED, "cancelled by DELETE /v1/jobs/" + rec.id));
    json(ctx, 200, rec.toJson());
  }

  // ---------------------------------------------------------------- job lifecycle

  /** On a finisher thread: stores the WAV, then marks the job done (or failed) and calls its webhook. */
  private void finish(JobRecord rec, FoleyResult result) {
    FoleyJob job = rec.job();
    if (result == null) {
      rec.failed(failure(job));
    } else {
      try {
        Path tmp = results.resolve(rec.id + ".wav.tmp");
        result.writeWav(tmp);
        Files.move(tmp, results.resolve(rec.id + ".wav"), StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
        rec.done(result);
        doneByKey.put(rec.key, rec.id);
      } catch (IOException | RuntimeException e) {
        rec.failed(e instanceof FoleyException f ? f
            : new FoleyException(FoleyException.Code.IO, "cannot store the result: " + e, e));
      }
    }
    if (rec.webhook != null) {
      webhooks.deliver(rec.webhook, rec.toJson().toString());
    }
  }

  private static FoleyException failure(FoleyJob job) {
    try {
      job.await();
      return new FoleyException(FoleyException.Code.INTERNAL, "job completed without a result");
    } catch (FoleyException e) {
      return e;
    }
  }

  /** Deletes finished jobs older than the retention, with their files. */
  private void expire() {
    Instant limit = Instant.now().minus(config.retention());
    for (JobRecord rec : jobs.values()) {
      Instant f = rec.finished();
      if (f != null && f.isBefore(limit)) {
        jobs.remove(rec.id);
        doneByKey.remove(rec.key, rec.id);
        for (String name : List.of(rec.id + ".wav", rec.id + ".mov")) {
          deleteQuietly(results.resolve(name));
        }
        deleteQuietly(rec.video);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The client's identity for rate limits: its API key, else its address. Fails with 401 on a bad key. */
  private String authorize(Context ctx) {
    String key = ctx.header("X-API-Key");
    String auth = ctx.header("Authorization");
    if (key == null && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      key = auth.substring(7).strip();
    }
    if (!config.apiKeys().isEmpty()) {
      if (key == null || !config.apiKeys().contains(key)) {
        throw new HttpError(401, "UNAUTHORIZED", key == null ? "an API key is required: send it as X-API-Key "
            + "or Authorization: Bearer" : "the API key is not valid", 0);
      }
      return "key:" + key;
    }
    return "ip:" + ctx.ip();
  }

  private JobRecord record(Context ctx) {
    if (!ctx.method().name().equals("DELETE")) {
      authorize(ctx);
    }
    String id = ctx.pathParam("id");
    JobRecord rec = jobs.get(id);
    if (rec == null) {
      throw new HttpError(404, "NOT_FOUND", "no job " + id + " here: it never existed, or it finished more than "
          + config.retention().toSeconds() + " s ago and was deleted", 0);
    }
    return rec;
  }

  private static JobRecord finished(JobRecord rec) {
    JobRecord.Status s = rec.status();
    if (s != JobRecord.Status.DONE) {
      throw new HttpError(409, "NOT_DONE", "job " + rec.id + " is " + s.json() + "; its audio and video exist "
          + "only once it is done (watch /v1/jobs/" + rec.id + "/events)", 0);
    }
    return rec;
  }

  private void checkVideo(Path video) {
    try (VideoSource s = probe.open(video)) {
      double seconds = s.info().durationSeconds();
      if (!(seconds > 0)) {
        throw new FoleyException(FoleyException.Code.CORRUPT_VIDEO, "the video has no duration");
      }
    } catch (FoleyException e) {
      throw e;
    } catch (Exception e) {
      throw new FoleyException(FoleyException.Code.CORRUPT_VIDEO, "cannot read the uploaded video: " + e, e);
    }
  }

  /** Copies the upload to {@code target} and returns the SHA-256 of its bytes. */
  private String store(UploadedFile file, Path target) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = new DigestInputStream(file.content(), sha)) {
      long n = Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      if (n > config.maxUploadBytes()) {
        throw tooLarge(n);
      }
      if (n == 0) {
        throw new HttpError(400, "CORRUPT_VIDEO", "the uploaded video is empty", 0);
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static String requestKey(String videoDigest, FoleyRequest r) {
    String s = videoDigest + "\u0000" + r.prompt() + "\u0000" + r.negativePrompt() + "\u0000" + r.steps() + "\u0000"
        + r.cfgScale() + "\u0000" + r.seed();
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private HttpError tooLarge(long length) {
    return new HttpError(413, "TOO_LARGE", "the upload" + (length > 0 ? " (" + length + " bytes)" : "")
        + " is over this service's limit of " + config.maxUploadBytes() + " bytes; send a shorter or smaller video",
        0);
  }

  private static boolean isSizeLimit(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
      if (m.contains("max") && (m.contains("size") || m.contains("length")) || m.contains("too large")
          || m.contains("exceeds")) {
        return true;
      }
    }
    return false;
  }

  private static int intParam(Context ctx, String name) {
    String v = ctx.formParam(name);
    if (v == null || v.isBlank()) {
      return -1;
    }
    if (v.strip().equals("-1")) {
      return 0; // refused by the request builder with its own message
    }
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, name + " must be a whole number, got \""
          + v + "\"");
    }
  }

  private static long longParam(Context ctx, String name) {
    String v = ctx.formParam(name);
    if (v == null || v.isBlank()) {
      return 0;
    }
    try {
      return Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, name + " must be a whole number, got \""
          + v + "\"");
    }
  }

  private static double number(String v, String name) {
    try {
      return Double.parseDouble(v.strip());
    } catch (NumberFormatException e) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, name + " must be a number, got \"" + v + "\"");
    }
  }

  private static Priority priority(String v) {
    if (v == null || v.isBlank()) {
      return Priority.NORMAL;
    }
    try {
      return Priority.valueOf(v.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "priority must be high, normal or low, got \""
          + v + "\"");
    }
  }

  /** Seconds to put in Retry-After for a refusal: the engine's own estimate when it gives one. */
  private static long retryAfter(FoleyException e) {
    Matcher m = RETRY_MS.matcher(String.valueOf(e.getMessage()));
    if (m.find()) {
      long ms = Long.parseLong(m.group(1) != null ? m.group(1) : m.group(2));
      return Math.max(1, (ms + 999) / 1000);
    }
    return 1;
  }

  private static void sendFile(Context ctx, Path file, String type, String name) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new HttpError(404, "NOT_FOUND", "the result file is gone (expired)", 0);
    }
    ctx.contentType(type);
    ctx.header("Content-Disposition", "inline; filename=\"" + name + "\"");
    ctx.res().setContentLengthLong(Files.size(file));
    try (InputStream in = Files.newInputStream(file); OutputStream out = ctx.res().getOutputStream()) {
      in.transferTo(out);
    }
  }

  private static void json(Context ctx, int status, JsonObject body) {
    ctx.status(status).contentType("application/json").result(body.toString());
  }

  private static void error(Context ctx, int status, String code, String message, long retryAfter) {
    JsonObject err = new JsonObject();
    err.addProperty("code", code);
    err.addProperty("message", message);
    JsonObject o = new JsonObject();
    o.add("error", err);
    if (retryAfter > 0) {
      ctx.header("Retry-After", Long.toString(retryAfter));
    }
    json(ctx, status, o);
  }

  private static String page() throws IOException {
    try (InputStream in = FoleyService.class.getResourceAsStream("index.html")) {
      if (in == null) {
        throw new IOException("index.html is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.fine(() -> "cannot delete " + p + ": " + e);
    }
  }

  private static java.util.concurrent.ThreadFactory named(String name) {
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Graceful shutdown: stops accepting jobs (POST and ready answer 503), waits up to the drain
   * timeout for running jobs, cancels what is left, then stops the server and closes the engine.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) && !draining.compareAndSet(false, true)) {
      return;
    }
    draining.set(true);
    long deadline = System.nanoTime() + config.drainTimeout().toNanos();
    List<JobRecord> open = new ArrayList<>(jobs.values());
    for (JobRecord rec : open) {
      FoleyJob job = rec.job();
      if (job == null) {
        continue;
      }
      long left = deadline - System.nanoTime();
      try {
        if (left > 0) {
          job.result().handle((r, e) -> null).get(left, TimeUnit.NANOSECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (Exception timeoutOrFailure) {
        // cancelled below
      }
    }
    for (JobRecord rec : open) {
      FoleyJob job = rec.job();
      if (job != null && job.cancel()) {
        rec.failed(new FoleyException(FoleyException.Code.CANCELLED, "the service shut down before the job "
            + "finished; submit it again"));
      }
    }
    finisher.shutdown();
    try {
      finisher.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (JobRecord rec : jobs.values()) {
      rec.wake();
    }
    if (app != null) {
      app.stop();
    }
    sweeper.shutdownNow();
    webhooks.close();
    FoleyEngine e = engine;
    if (e != null) {
      e.close();
    }
    registry.close();
  }

  /** An HTTP error answer with a JSON body. */
  static final class HttpError extends RuntimeException {
    final int status;
    final String code;
    final long retryAfter;

    HttpError(int status, String code, String message, long retryAfter) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }
}
