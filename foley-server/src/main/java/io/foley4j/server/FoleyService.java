package io.foley4j.server;

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

  private final ServiceConfig config;
  private final VideoSourceFactory probe;
  private final Path uploads;
  private final Path results;
  private final ClientLimits limits;
  private final Webhooks webhooks;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ExecutorService finisher = Executors.newFixedThreadPool(2, named("foley-serve-finisher"));
  private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
      named("foley-serve-expiry"));
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final InFlight uploading = new InFlight();
  private final InFlight streaming = new InFlight();
  private final Counter submitted;
  private final Counter cacheAnswered;
  private volatile boolean ready;
  private volatile FoleyEngine engine;
  private TensorCache resultCache;
  private volatile Jobs jobs;
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
      c.routes.get("/v1/jobs/{id}", this::status);
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
        error(ctx, status, e.code().name(), e.getMessage(), status == 503 ? HttpError.retryAfter(e) : 0);
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
    LOG.log(Level.INFO, "engine ready: " + e.readiness());
    engine = e;
    metrics.engine(e).cache("result", resultCache).bindTo(registry);
    long sweep = Math.max(100, Math.min(30_000, config.retention().toMillis() / 4));
    jobs = config.redis() == null ? new LocalJobs(e, uploads, results, config.retention(), finisher, webhooks)
        : RedisJobs.start(config, e, uploads, results, finisher, webhooks);
    Jobs j = jobs;
    sweeper.scheduleWithFixedDelay(() -> {
      try {
        j.expire();
      } catch (RuntimeException ex) {
        LOG.log(Level.WARNING, "expiring old results failed", ex);
      }
    }, sweep, sweep, TimeUnit.MILLISECONDS);
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
    Jobs j = jobs;
    String down = ready && !draining.get() && j != null ? j.unavailable() : null;
    if (down != null) {
      error(ctx, 503, "NOT_READY", down, RedisJobs.RETRY_AFTER_SECONDS);
    } else if (ready && !draining.get()) {
      ctx.json("{\"status\":\"ready\"}");
    } else {
      error(ctx, 503, "NOT_READY", draining.get() ? "shutting down: send work to another node"
          : "the engine is still loading and warming up", 1);
    }
  }

  private void submit(Context ctx) throws IOException {
    uploading.enter(); // before the draining check: close() waits for this upload to be answered and stored
    try {
      accept(ctx);
    } finally {
      uploading.exit();
    }
  }

  private void accept(Context ctx) throws IOException {
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
      JobSpec spec;
      try {
        UploadedFile file = ctx.uploadedFile("video");
        if (file == null) {
          throw new HttpError(400, "INVALID_ARGUMENT", "the multipart field 'video' (a file) is missing", 0);
        }
        String digest = store(file, video);
        String negative = ctx.formParam("negative_prompt");
        String cfg = ctx.formParam("cfg");
        Integer steps = intParam(ctx, "steps");
        if (steps != null) {
          FoleyRequest.builder(video).steps(steps); // the engine's own check and message
        }
        spec = new JobSpec(id, null, ctx.formParam("prompt"), negative == null || negative.isEmpty() ? null : negative,
            steps == null ? 0 : steps, cfg == null || cfg.isBlank() ? Double.NaN : number(cfg, "cfg"),
            longParam(ctx, "seed"), priority(ctx.formParam("priority")), client,
            webhooks.check(ctx.formParam("webhook")));
        spec.toRequest(uploads); // validates every option with the engine's own messages
        spec = new JobSpec(id, requestKey(digest, spec), spec.prompt(), spec.negativePrompt(), spec.steps(),
            spec.cfg(), spec.seed(), spec.priority(), spec.client(), spec.webhook());
      } catch (HttpError | FoleyException e) {
        throw e;
      } catch (Exception e) {
        if (isSizeLimit(e)) {
          throw tooLarge(length);
        }
        throw new HttpError(400, "INVALID_ARGUMENT", "cannot read the multipart upload: " + e.getMessage(), 0);
      }
      checkVideo(video);
      JsonObject earlier = jobs().doneFor(spec.key());
      if (earlier != null) {
        cacheAnswered.increment();
        json(ctx, 200, earlier);
        return;
      }
      JsonObject accepted = jobs().submit(spec);
      keep = true;
      submitted.increment();
      ctx.header("Location", "/v1/jobs/" + id);
      json(ctx, 202, accepted);
    } finally {
      if (!keep) {
        Files.deleteIfExists(video);
      }
    }
  }

  private void status(Context ctx) {
    authorize(ctx);
    String id = ctx.pathParam("id");
    JsonObject o = jobs().status(id);
    if (o == null) {
      throw HttpError.notFound(id, config.retention());
    }
    json(ctx, 200, o);
  }

  private void events(Context ctx) throws IOException, InterruptedException {
    authorize(ctx);
    String id = ctx.pathParam("id");
    Jobs.Slice first = jobs().events(id, 0, 0);
    if (first == null) {
      throw HttpError.notFound(id, config.retention());
    }
    streaming.enter();
    try {
      stream(ctx, id);
    } finally {
      streaming.exit();
    }
  }

  /** Writes the job's SSE log until it is complete; at shutdown, what the log holds by then, then ends. */
  private void stream(Context ctx, String id) throws InterruptedException {
    ctx.status(200);
    ctx.res().setContentType("text/event-stream");
    ctx.res().setCharacterEncoding("utf-8");
    ctx.res().setHeader("Cache-Control", "no-cache");
    ctx.res().setHeader("X-Accel-Buffering", "no");
    try {
      OutputStream out = ctx.res().getOutputStream();
      out.write(("retry: 1000\n\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      int seen = 0;
      while (true) {
        boolean last = stopped.get(); // at shutdown: one more read of what is there, then the stream ends
        Jobs.Slice slice = jobs().events(id, seen, last ? 0 : 15_000);
        if (slice == null) {
          break; // expired meanwhile
        }
        if (slice.frames().isEmpty() && !slice.complete()) {
          out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
        }
        for (String frame : slice.frames()) {
          out.write(frame.getBytes(StandardCharsets.UTF_8));
        }
        seen += slice.frames().size();
        out.flush();
        if (slice.complete() || last) {
          break;
        }
      }
    } catch (IOException clientGone) {
      LOG.fine(() -> "SSE client of job " + id + " went away: " + clientGone);
    } catch (RuntimeException e) {
      if (!stopped.get()) {
        throw e;
      }
      LOG.fine(() -> "SSE stream of job " + id + " ended by the shutdown: " + e);
    }
  }

  /**
   * The result as {@code ?format=wav} (the default, as stored), {@code flac} (lossless) or
   * {@code m4a} (AAC, 128 kbps). FLAC and M4A are made from the stored WAV on the first request
   * (with foley-ffmpeg) and kept beside it until the result expires.
   */
  private void audio(Context ctx) throws IOException {
    authorize(ctx);
    String id = ctx.pathParam("id");
    String format = ctx.queryParam("format");
    Path wav = jobs().audio(id);
    if (format == null || format.equals("wav")) {
      sendFile(ctx, wav, "audio/wav", id + ".wav");
      return;
    }
    String type = switch (format) {
      case "flac" -> "audio/flac";
      case "m4a" -> "audio/mp4";
      default -> throw new HttpError(400, "INVALID_ARGUMENT", "format must be wav, flac or m4a, found \"" + format
          + "\"", 0);
    };
    if (!Files.isRegularFile(wav)) {
      throw new HttpError(404, "NOT_FOUND", "the result file is gone (expired)", 0);
    }
    Path converted = wav.resolveSibling(id + "." + format);
    if (!Files.isRegularFile(converted)) { // two requests at once both write; each replaces the file atomically
      StoredWav stored = StoredWav.read(wav);
      io.foley4j.ffmpeg.FfmpegOutputs.writeAudio(stored.samples(), stored.sampleRate(), converted,
          io.foley4j.ffmpeg.FfmpegOutputs.DEFAULT_AAC_BITRATE);
    }
    sendFile(ctx, converted, type, id + "." + format);
  }

  private void video(Context ctx) throws IOException {
    authorize(ctx);
    String id = ctx.pathParam("id");
    sendFile(ctx, jobs().video(id), "video/quicktime", id + ".mov");
  }

  private void cancel(Context ctx) {
    authorize(ctx);
    json(ctx, 200, jobs().cancel(ctx.pathParam("id")));
  }

  // ---------------------------------------------------------------- helpers

  /** The job store, or 503 while the engine is still loading. */
  private Jobs jobs() {
    Jobs j = jobs;
    if (j == null) {
      throw new HttpError(503, "UNAVAILABLE", "the engine is still warming up; retry shortly", 1);
    }
    return j;
  }

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

  private static String requestKey(String videoDigest, JobSpec r) {
    String s = videoDigest + "\u0000" + r.prompt() + "\u0000" + r.negativePrompt() + "\u0000" + r.steps() + "\u0000"
        + r.cfg() + "\u0000" + r.seed();
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

  private static Integer intParam(Context ctx, String name) {
    String v = ctx.formParam(name);
    if (v == null || v.isBlank()) {
      return null;
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
    if (hasUnreadBody(ctx)) {
      // refused before its body was read (no key, over the rate, not ready): the server drops the rest
      // of the body and closes the connection, so a client must not send its next request on it
      ctx.header("Connection", "close");
    }
    json(ctx, status, o);
  }

  /** Whether the request came with a body that may not have been read (an upload refused early). */
  private static boolean hasUnreadBody(Context ctx) {
    String method = ctx.method().name();
    if (!method.equals("POST") && !method.equals("PUT") && !method.equals("PATCH")) {
      return false;
    }
    return ctx.contentLength() > 0 || ctx.header("Transfer-Encoding") != null;
  }

  private static String page() throws IOException {
    try (InputStream in = FoleyService.class.getResourceAsStream("index.html")) {
      if (in == null) {
        throw new IOException("index.html is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
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
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    draining.set(true);
    long deadline = System.nanoTime() + config.drainTimeout().toNanos();
    if (!uploading.awaitNone(deadline)) { // an upload past the draining check is answered and stored first
      LOG.warning(uploading.count() + " upload(s) still being received after the drain timeout");
    }
    Jobs j = jobs;
    if (j != null) {
      try {
        j.drain(deadline);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    finisher.shutdown();
    try {
      finisher.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopped.set(true);
    if (j != null) {
      j.close(); // wakes SSE readers: each sends what its job's log holds (a final event for every job ended here)
    }
    streaming.awaitNone(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
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
}
