package io.foley4j.server;

import com.google.gson.JsonObject;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyModels;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.Priority;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.cache.TensorCache;
import io.foley4j.cachestore.TensorCaches;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.micrometer.FoleyEngineMetrics;
import io.foley4j.video.SyntheticVideo;
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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
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
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.FutureCallback;

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
  /** The largest text field of a job (prompt, negative_prompt, webhook, ...), in bytes. */
  static final int MAX_FIELD_BYTES = 16 * 1024;
  /** The text fields of one form in all, in bytes (Jetty refuses more before the fields are seen). */
  static final int MAX_FORM_BYTES = 1 << 20;
  private static final List<String> FIELDS = List.of("prompt", "negative_prompt", "steps", "cfg", "seed", "priority",
      "webhook", "variants");

  /** The web page's Content-Security-Policy: its own inline script and style, media and requests from this origin. */
  static final String PAGE_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
      + "connect-src 'self'; media-src 'self' blob:; img-src 'self' blob: data:; base-uri 'none'; form-action 'self'";
  /** The length of the example clip that GET /v1/example.mp4 serves (shorter if the duration limit is). */
  static final double EXAMPLE_SECONDS = 2.0;

  private final ServiceConfig config;
  private final Object exampleLock = new Object();
  private byte[] example; // guarded by exampleLock
  private final VideoSourceFactory probe;
  private final Clock clock;
  private final AudioConverter converter;
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
  private volatile FoleyModels models;
  private volatile Engines engines;
  private TensorCache resultCache;
  private volatile Jobs jobs;
  private Javalin app;

  /** Writes a stored result's samples to a file whose extension (.flac, .m4a) picks the format. */
  interface AudioConverter {
    void write(StoredWav wav, Path target);

    /** foley-ffmpeg's encoders (AAC at its default 128 kbps). */
    static AudioConverter ffmpeg() {
      return (wav, target) -> io.foley4j.ffmpeg.FfmpegOutputs.writeAudio(wav.samples(), wav.sampleRate(), target,
          io.foley4j.ffmpeg.FfmpegOutputs.DEFAULT_AAC_BITRATE);
    }
  }

  private FoleyService(ServiceConfig config, VideoSourceFactory probe, Clock clock, AudioConverter converter) {
    this.config = config;
    this.probe = probe;
    this.clock = clock;
    this.converter = converter;
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
    return start(config, engineBuilder, videoSources, Clock.systemUTC(), AudioConverter.ffmpeg());
  }

  /** As {@link #start(ServiceConfig, FoleyEngine.Builder, VideoSourceFactory)}, with the clock retention reads. */
  static FoleyService start(ServiceConfig config, FoleyEngine.Builder engineBuilder, VideoSourceFactory videoSources,
      Clock clock, AudioConverter converter) {
    FoleyService s = new FoleyService(config, videoSources, clock, converter);
    try {
      s.startHttp();
      s.startEngine(engineBuilder);
      return s;
    } catch (RuntimeException | Error e) {
      s.close();
      throw e;
    }
  }

  /**
   * Where Jetty spills this node's upload parts: {@code <data-dir>/tmp} for one node,
   * {@code <data-dir>/tmp/<node-id>} with Redis (nodes share the data directory, and a node cleans
   * only its own spills at start).
   */
  private Path spillDir() {
    Path tmp = config.dataDir().resolve("tmp");
    return config.redis() == null ? tmp : tmp.resolve(config.nodeId());
  }

  private void startHttp() {
    try {
      Files.createDirectories(uploads);
      Files.createDirectories(results);
      Files.createDirectories(spillDir());
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot create the data directory " + config.dataDir()
          + ": " + e, e);
    }
    cleanLeftovers();
    app = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.jetty.multipartConfig.cacheDirectory(spillDir().toString());
      c.jetty.multipartConfig.maxFileSize(config.maxUploadBytes(), SizeUnit.BYTES);
      c.jetty.multipartConfig.maxInMemoryFileSize(64 * 1024, SizeUnit.BYTES);
      c.jetty.multipartConfig.maxTotalRequestSize(config.maxUploadBytes() + (1 << 20), SizeUnit.BYTES);
      // the text fields of a form in all (Jetty's default is 200000 bytes): above the per-field limit, so that
      // a long field is refused by checkFieldSizes with its name, not by Jetty
      c.jetty.modifyServletContextHandler(h -> h.setMaxFormContentSize(MAX_FORM_BYTES));
      c.routes.get("/", ctx -> {
        // the page is self-contained: it may load nothing from anywhere but this service
        ctx.header("Content-Security-Policy", PAGE_POLICY);
        ctx.html(page());
      });
      c.routes.get("/v1/info", this::info);
      c.routes.get("/v1/example.mp4", this::example);
      c.routes.get("/health/live", ctx -> ctx.json("{\"status\":\"live\"}"));
      c.routes.get("/health/ready", this::ready);
      c.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
          .result(registry.scrape()));
      c.routes.post("/v1/jobs", this::submit);
      c.routes.post("/v1/jobs/stream", this::submitStream);
      c.routes.get("/v1/models", this::listModels);
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

  /**
   * Starts the HTTP server and serves several models by name (a job's {@code model} field picks
   * one; without it, the default): {@code models} is built with this service's result cache, video
   * reader and video-duration limit added to every model's engine settings, and the default model
   * is loaded before the service reports ready. The service owns the models.
   */
  public static FoleyService start(ServiceConfig config, FoleyModels.Builder models, VideoSourceFactory videoSources) {
    FoleyService s = new FoleyService(config, videoSources, Clock.systemUTC(), AudioConverter.ffmpeg());
    try {
      s.startHttp();
      s.startModels(models);
      return s;
    } catch (RuntimeException | Error e) {
      s.close();
      throw e;
    }
  }

  /**
   * What an earlier run of this node left that no job can reach any more, deleted before the node
   * takes requests. A node that was killed (SIGKILL, a lost machine) leaves the upload parts Jetty
   * was spilling, and one node (no Redis) keeps its jobs in memory only, so after a restart its
   * uploads and results ({@code *.tmp} included) belong to no job: all are deleted. With Redis the
   * jobs outlive the node, so only this node's own spill directory is emptied here; uploads and
   * results are the shared retention's (by age), and so are other nodes' spill directories.
   */
  private void cleanLeftovers() {
    int spills = Files2.deleteUnder(spillDir(), p -> true);
    int files = 0;
    if (config.redis() == null) {
      files = Files2.deleteUnder(uploads, p -> true) + Files2.deleteUnder(results, p -> true);
    }
    if (spills + files > 0) {
      LOG.info("deleted " + files + " upload and result files and " + spills + " spilled upload parts left by an "
          + "earlier run of this node under " + config.dataDir() + (config.redis() == null ? " (one node keeps its "
          + "jobs in memory: they ended with that run)" : ""));
    }
  }

  private void startEngine(FoleyEngine.Builder builder) {
    FoleyEngineMetrics metrics = new FoleyEngineMetrics();
    if (config.resultCacheBytes() > 0) {
      resultCache = TensorCaches.memory().maximumBytes(config.resultCacheBytes()).build();
      builder.resultCache(resultCache);
    }
    FoleyEngine e = builder.eventListener(metrics.eventListener()).videoSources(probe)
        .maxVideoDuration(config.maxVideoDuration()).build();
    LOG.log(Level.INFO, "engine ready: " + e.readiness());
    engine = e;
    metrics.engine(e);
    if (resultCache != null) {
      metrics.cache("result", resultCache);
    }
    metrics.bindTo(registry);
    startJobs(Engines.of(e));
  }

  private void startModels(FoleyModels.Builder builder) {
    TensorCache cache = config.resultCacheBytes() > 0
        ? TensorCaches.memory().maximumBytes(config.resultCacheBytes()).build() : null;
    resultCache = cache;
    FoleyModels m = builder.commonSettings(b -> {
      if (cache != null) {
        b.resultCache(cache);
      }
      b.videoSources(probe).maxVideoDuration(config.maxVideoDuration());
    }).build();
    models = m;
    ModelMetrics.bind(m, registry);
    m.load(m.defaultModel());
    LOG.log(Level.INFO, "models ready: " + m.names() + ", default " + m.defaultModel() + " loaded");
    startJobs(Engines.of(m));
  }

  private void startJobs(Engines e) {
    engines = e;
    long sweep = Math.max(100, Math.min(30_000, config.retention().toMillis() / 4));
    jobs = config.redis() == null ? new LocalJobs(e, uploads, results, config.retention(), finisher, webhooks, clock)
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

  /** The engine (for stats) of a service started on one engine, else null; closed with the service. */
  public FoleyEngine engine() {
    return engine;
  }

  /** The models of a service started on several, else null; closed with the service. */
  public FoleyModels models() {
    return models;
  }

  // ---------------------------------------------------------------- handlers

  /** {@code GET /v1/models}: the models this node serves, the default first among equals. */
  private void listModels(Context ctx) {
    authorize(ctx);
    Engines e = engines;
    if (e == null) {
      throw new HttpError(503, "UNAVAILABLE", "the engine is still warming up; retry shortly", 1);
    }
    JsonObject o = new JsonObject();
    o.add("models", e.describe());
    json(ctx, 200, o);
  }

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
    Caller caller = authorize(ctx);
    String client = caller.tenant();
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
          + "and optional prompt, negative_prompt, steps, cfg, seed, variants, priority and webhook fields", 0);
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
        checkFieldSizes(ctx);
        String digest = store(file, video);
        String negative = ctx.formParam("negative_prompt");
        String cfg = ctx.formParam("cfg");
        Integer steps = intParam(ctx, "steps");
        if (steps != null) {
          FoleyRequest.builder(video).steps(steps); // the engine's own check and message
        }
        Integer variants = intParam(ctx, "variants");
        if (variants != null) {
          FoleyRequest.builder(video).variants(variants); // the engine's own check and message
        }
        spec = new JobSpec(id, null, ctx.formParam("prompt"), negative == null || negative.isEmpty() ? null : negative,
            steps == null ? 0 : steps, cfg == null || cfg.isBlank() ? Double.NaN : number(cfg, "cfg"),
            longParam(ctx, "seed"), priority(ctx.formParam("priority")), client,
            webhooks.check(ctx.formParam("webhook")), variants == null ? 1 : variants,
            engines.resolve(ctx.formParam("model")));
        spec.toRequest(uploads); // validates every option with the engine's own messages
        // with keys, one tenant is never answered with another's job; without, there are no tenants
        spec = spec.withKey(RequestKey.of(keysRequired() ? client : "", digest, spec));
      } catch (HttpError | FoleyException e) {
        throw e;
      } catch (Exception e) {
        if (isFormLimit(e)) {
          throw new HttpError(413, "FIELD_TOO_LARGE", "the form's text fields are over " + MAX_FORM_BYTES
              + " bytes in all; each may be at most " + MAX_FIELD_BYTES + " bytes", 0);
        }
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

  /**
   * {@code POST /v1/jobs/stream}: the video itself as the request body (not multipart; any length
   * up to {@code --max-upload}, chunked or not), the job's options in the query string ({@code
   * prompt}, {@code negative_prompt}, {@code steps}, {@code cfg}, {@code seed}, {@code variants},
   * {@code priority}, {@code webhook}, {@code model}; {@code read_whole=1} reads the body to its end
   * before decoding, as for a container that needs its end). The job is accepted before the body is read, and
   * the answer is its event stream at once (SSE: {@code accepted} with the job's JSON, then the events
   * of {@code GET /v1/jobs/{id}/events}), so that a client sees its first chunks while it is still
   * sending. The engine decodes the video as it arrives where the container allows it (docs/video.md);
   * otherwise it reads it whole first. The job is this node's (with {@code --redis}: 400); its
   * results download as any job's. Over {@code --max-upload} without a Content-Length saying so, the
   * job fails with a {@code failed} event ({@code INVALID_ARGUMENT}), since the answer has begun. A
   * streamed job is neither answered by an identical earlier job nor answers a later one: its key
   * would be known only at its end.
   */
  private void submitStream(Context ctx) throws IOException, InterruptedException {
    String[] id = new String[1];
    String accepted;
    uploading.enter();
    try {
      accepted = acceptStream(ctx, id);
    } finally {
      uploading.exit();
    }
    streaming.enter();
    try {
      ctx.header("Location", "/v1/jobs/" + id[0]);
      stream(ctx, id[0], "event: accepted\ndata: " + accepted + "\n\n");
    } finally {
      streaming.exit();
    }
  }

  private String acceptStream(Context ctx, String[] idOut) throws IOException {
    Caller caller = authorize(ctx);
    String client = caller.tenant();
    if (draining.get() || !ready) {
      throw new HttpError(503, "UNAVAILABLE", draining.get() ? "this node is shutting down; send the job to "
          + "another node" : "the engine is still warming up; retry shortly", 1);
    }
    if (!(jobs() instanceof LocalJobs local)) {
      throw new HttpError(400, "INVALID_ARGUMENT", "a streamed upload runs on the node that receives it, which a "
          + "service with --redis does not offer: POST the video as multipart/form-data to /v1/jobs", 0);
    }
    long wait = limits.tryAcquire(client);
    if (wait > 0) {
      throw new HttpError(429, "RATE_LIMITED", "too many jobs from this client (" + config.ratePerSecond()
          + " per second, burst " + config.rateBurst() + "); retry in " + wait + " s", wait);
    }
    long length = ctx.req().getContentLengthLong();
    if (length > config.maxUploadBytes()) {
      throw tooLarge(length);
    }
    if (length == 0) {
      throw new HttpError(400, "CORRUPT_VIDEO", "the uploaded video is empty", 0);
    }
    String contentType = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
    if (contentType.startsWith("multipart/") || contentType.startsWith("application/x-www-form-urlencoded")) {
      throw new HttpError(400, "INVALID_ARGUMENT", "send the video itself as the body of POST /v1/jobs/stream "
          + "(e.g. Content-Type: video/mp4) and the options in the query string; a multipart form goes to POST "
          + "/v1/jobs", 0);
    }
    String id = UUID.randomUUID().toString().replace("-", "");
    String negative = ctx.queryParam("negative_prompt");
    String cfg = ctx.queryParam("cfg");
    Integer steps = queryInt(ctx, "steps");
    Integer variants = queryInt(ctx, "variants");
    String seed = ctx.queryParam("seed");
    long seedValue;
    try {
      seedValue = seed == null || seed.isBlank() ? 0 : Long.parseLong(seed.strip());
    } catch (NumberFormatException e) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "seed must be a whole number, got \"" + seed
          + "\"");
    }
    JobSpec spec = new JobSpec(id, "stream:" + id, ctx.queryParam("prompt"),
        negative == null || negative.isEmpty() ? null : negative, steps == null ? 0 : steps,
        cfg == null || cfg.isBlank() ? Double.NaN : number(cfg, "cfg"), seedValue, priority(ctx.queryParam("priority")),
        client, webhooks.check(ctx.queryParam("webhook")), variants == null ? 1 : variants,
        engines.resolve(ctx.queryParam("model")));
    spec.toRequest(uploads); // validates every option with the engine's own messages
    Path video = uploads.resolve(spec.videoName());
    Tee body = new Tee(ctx.req().getInputStream(), video);
    boolean kept = false;
    try {
      boolean readWhole = "1".equals(ctx.queryParam("read_whole")) || "true".equals(ctx.queryParam("read_whole"));
      JsonObject accepted = local.submitStream(spec, body, config.maxUploadBytes(), readWhole);
      kept = true;
      submitted.increment();
      idOut[0] = id;
      return accepted.toString();
    } finally {
      if (!kept) {
        body.close();
        Files.deleteIfExists(video);
      }
    }
  }

  private static Integer queryInt(Context ctx, String name) {
    return wholeNumber(name, ctx.queryParam(name));
  }

  /**
   * A streamed upload's body as the engine reads it, copied as it is read to the job's upload file
   * (the video that {@code /video} downloads put the sound to); the file is closed with the stream.
   */
  static final class Tee extends java.io.FilterInputStream {
    private final OutputStream copy;
    private boolean closed;

    Tee(InputStream in, Path file) throws IOException {
      super(in);
      this.copy = Files.newOutputStream(file);
    }

    @Override
    public int read() throws IOException {
      byte[] b = new byte[1];
      int n = read(b, 0, 1);
      return n < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        copy.write(b, off, n);
      }
      return n;
    }

    @Override
    public synchronized void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      try {
        copy.close();
      } finally {
        super.close();
      }
    }
  }

  /**
   * What a client (the web page) needs to know before it submits: the model's name and sampler
   * defaults, the models a job may name, the limits of this service, and whether it needs an API key.
   * On a node of several models the defaults of a model are known only while it is loaded, so
   * {@code steps}, {@code cfg}, {@code negativePrompt} and {@code sampleRate} are null there (a job
   * without them takes its model's own). Needs no key itself.
   */
  private void info(Context ctx) {
    Engines all = engines;
    if (all == null || !ready) {
      throw new HttpError(503, "UNAVAILABLE", "the engine is still warming up; retry shortly", 1);
    }
    FoleyEngine e = engine;
    FoleyModels several = models;
    JsonObject o = new JsonObject();
    com.google.gson.JsonArray names = new com.google.gson.JsonArray();
    if (e != null) {
      BundleManifest m = e.manifest();
      o.addProperty("bundle", m.name());
      o.addProperty("steps", m.sampler().steps());
      o.addProperty("cfg", m.sampler().cfgScale());
      o.addProperty("negativePrompt", m.sampler().negativePrompt());
      o.addProperty("sampleRate", m.audio().sampleRate());
      names.add(m.name());
    } else {
      o.addProperty("bundle", several.defaultModel());
      for (String field : new String[] {"steps", "cfg", "negativePrompt", "sampleRate"}) {
        o.add(field, com.google.gson.JsonNull.INSTANCE);
      }
      several.names().forEach(names::add);
    }
    o.add("models", names);
    o.addProperty("maxSteps", 1000); // FoleyRequest.Builder#steps's bound
    o.addProperty("maxCfg", 100); // and #cfgScale's
    o.addProperty("maxVariants", FoleyRequest.MAX_VARIANTS);
    o.addProperty("maxUploadBytes", config.maxUploadBytes());
    o.addProperty("maxVideoSeconds", config.maxVideoDuration().toMillis() / 1000.0);
    o.addProperty("apiKeyRequired", keysRequired());
    o.addProperty("decoder", probe.id()); // what reads uploads: jcodec takes H.264 MP4/MOV only, FFmpeg every codec it has
    o.addProperty("example", "/v1/example.mp4");
    json(ctx, 200, o);
  }

  /**
   * A short synthetic clip (two white flashes and a red square that moves), made with jcodec on the
   * first request and kept in memory, so that a visitor of the page can try the service without a
   * video of their own. Needs no key: it is the same for everyone.
   */
  private void example(Context ctx) throws IOException {
    byte[] clip;
    synchronized (exampleLock) {
      if (example == null) {
        double seconds = Math.min(EXAMPLE_SECONDS, config.maxVideoDuration().toMillis() / 1000.0);
        Path tmp = Files.createTempFile(spillDir(), "example-", ".mp4");
        try {
          SyntheticMp4.write(SyntheticVideo.builder().size(320, 240).fps(25, 1).durationSeconds(seconds).background(0x1E2A44)
              .flash(0.4 * seconds, 0.05 * seconds, 0xFFFFFF).flash(0.8 * seconds, 0.05 * seconds, 0xFFFFFF)
              .movingSquare(0, 0.9 * seconds, 0xE53935).build(), tmp);
          example = Files.readAllBytes(tmp);
        } finally {
          Files2.deleteQuietly(tmp);
        }
      }
      clip = example;
    }
    ctx.contentType("video/mp4");
    ctx.header("Content-Disposition", "inline; filename=\"foley-example.mp4\"");
    ctx.header("Cache-Control", "public, max-age=3600");
    ctx.result(clip);
  }

  private void status(Context ctx) {
    String id = visibleJob(ctx);
    JsonObject o = jobs().status(id);
    if (o == null) {
      throw HttpError.notFound(id, config.retention());
    }
    json(ctx, 200, o);
  }

  private void events(Context ctx) throws IOException, InterruptedException {
    String id = visibleJob(ctx);
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
    stream(ctx, id, null);
  }

  /** As {@link #stream(Context, String)}, with {@code first} (an SSE frame, or null) before the job's log. */
  private void stream(Context ctx, String id, String first) throws InterruptedException {
    ctx.status(200);
    ctx.res().setContentType("text/event-stream");
    ctx.res().setCharacterEncoding("utf-8");
    ctx.res().setHeader("Cache-Control", "no-cache");
    ctx.res().setHeader("X-Accel-Buffering", "no");
    try {
      OutputStream out = ctx.res().getOutputStream();
      out.write(("retry: 1000\n\n").getBytes(StandardCharsets.UTF_8));
      if (first != null) {
        out.write(first.getBytes(StandardCharsets.UTF_8));
      }
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
    String id = visibleJob(ctx);
    String format = ctx.queryParam("format");
    int variant = variantParam(ctx);
    Path wav = jobs().audio(id, variant);
    String name = JobSpec.resultName(id, variant, "");
    if (format == null || format.equals("wav")) {
      sendFile(ctx, wav, "audio/wav", name + ".wav");
      return;
    }
    String type = switch (format) {
      case "flac" -> "audio/flac";
      case "m4a" -> "audio/mp4";
      default -> throw new HttpError(400, "INVALID_ARGUMENT", "format must be wav, flac or m4a, found \"" + format
          + "\"", 0);
    };
    sendFile(ctx, converted(id, name, wav, format), type, name + "." + format);
  }

  private void video(Context ctx) throws IOException {
    String id = visibleJob(ctx);
    int variant = variantParam(ctx);
    sendFile(ctx, jobs().video(id, variant), "video/quicktime", JobSpec.resultName(id, variant, ".mov"));
  }

  /** {@code ?variant=i}: which variant's result (0 unless given); the job store checks it against the job's count. */
  private static int variantParam(Context ctx) {
    String v = ctx.queryParam("variant");
    if (v == null || v.isBlank()) {
      return 0;
    }
    try {
      int i = Integer.parseInt(v.strip());
      if (i >= 0 && i < FoleyRequest.MAX_VARIANTS) {
        return i;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new HttpError(400, "INVALID_ARGUMENT", "variant must be a whole number from 0 to "
        + (FoleyRequest.MAX_VARIANTS - 1) + " (a job's variants count from 0), found \"" + v + "\"", 0);
  }

  private void cancel(Context ctx) {
    json(ctx, 200, jobs().cancel(visibleJob(ctx)));
  }

  // ---------------------------------------------------------------- helpers

  /**
   * The result as FLAC or M4A, made beside the WAV on the first request. Two requests at once both
   * write a temporary file and each moves its own into place. Expiry may run meanwhile: it marks the
   * job before it deletes, so once the file is in place a job that is no longer kept means expiry may
   * have missed it, and it is deleted here (a 404, as for any expired job). No file outlives the job.
   */
  private Path converted(String id, String name, Path wav, String format) throws IOException {
    Path converted = wav.resolveSibling(name + "." + format);
    if (Files.isRegularFile(converted)) {
      return converted;
    }
    // named after the job (expiry deletes <id>.*), with the format's extension (it picks the encoder)
    Path tmp = wav.resolveSibling(id + ".part-" + UUID.randomUUID() + "." + format);
    try {
      StoredWav stored;
      try {
        stored = StoredWav.read(wav);
      } catch (FoleyException e) {
        if (!Files.exists(wav)) {
          throw gone(id);
        }
        throw e;
      }
      converter.write(stored, tmp);
      Files.move(tmp, converted, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files2.deleteQuietly(tmp);
    }
    if (!jobs().kept(id)) {
      Files2.deleteQuietly(converted);
      throw gone(id);
    }
    return converted;
  }

  private HttpError gone(String id) {
    return HttpError.notFound(id, config.retention());
  }

  /** Runs expiry now (tests drive retention by hand with the clock given to start). */
  void expireNow() {
    jobs().expire();
  }

  /** The job store, or 503 while the engine is still loading. */
  private Jobs jobs() {
    Jobs j = jobs;
    if (j == null) {
      throw new HttpError(503, "UNAVAILABLE", "the engine is still warming up; retry shortly", 1);
    }
    return j;
  }

  /**
   * Who sent a request. {@code tenant} owns the jobs it submits and is its identity for rate limits:
   * {@code key:} and a digest of its API key (the key itself is stored nowhere), or {@code ip:} and its
   * address when the service has no keys. An admin key sees every tenant's jobs.
   */
  private record Caller(String tenant, boolean admin) {}

  private boolean keysRequired() {
    return !config.apiKeys().isEmpty() || !config.adminKeys().isEmpty();
  }

  /** The caller; fails with 401 on a missing or bad key when the service has keys. */
  private Caller authorize(Context ctx) {
    String key = ctx.header("X-API-Key");
    String auth = ctx.header("Authorization");
    if (key == null && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      key = auth.substring(7).strip();
    }
    if (keysRequired()) {
      boolean admin = key != null && config.adminKeys().contains(key);
      if (key == null || !admin && !config.apiKeys().contains(key)) {
        throw new HttpError(401, "UNAUTHORIZED", key == null ? "an API key is required: send it as X-API-Key "
            + "or Authorization: Bearer" : "the API key is not valid", 0);
      }
      return new Caller(tenantOf(key), admin);
    }
    return new Caller("ip:" + ctx.ip(), false);
  }

  /** The tenant of an API key: a digest, so that neither Redis nor a job's record holds the key. */
  static String tenantOf(String apiKey) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(("foley-serve-tenant\u0000" + apiKey)
          .getBytes(StandardCharsets.UTF_8));
      return "key:" + HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The path's job id, once the caller may see that job: 404 for an id this service could not have
   * made, and, with API keys, for another tenant's job (404, not 403: a job's existence is not revealed).
   */
  private String visibleJob(Context ctx) {
    Caller caller = authorize(ctx);
    Jobs jobs = jobs(); // 503 while the engine loads
    String id = ctx.pathParam("id");
    if (!JobSpec.validId(id)) {
      throw HttpError.notFound(id, config.retention());
    }
    if (keysRequired() && !caller.admin()) {
      String owner = jobs.owner(id);
      if (owner == null || !owner.equals(caller.tenant())) {
        throw HttpError.notFound(id, config.retention());
      }
    }
    return id;
  }

  /** 413 for a text field over {@link #MAX_FIELD_BYTES}, naming it (the video's own limit is --max-upload). */
  private static void checkFieldSizes(Context ctx) {
    for (String name : FIELDS) {
      for (String v : ctx.formParams(name)) {
        int bytes = v.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_FIELD_BYTES) {
          throw new HttpError(413, "FIELD_TOO_LARGE", "the form field '" + name + "' is " + bytes + " bytes, over "
              + "the limit of " + MAX_FIELD_BYTES + " bytes per text field; send a shorter " + name, 0);
        }
      }
    }
  }

  private void checkVideo(Path video) {
    try (VideoSource s = probe.open(video)) {
      double seconds = s.info().durationSeconds();
      if (!(seconds > 0)) {
        throw new FoleyException(FoleyException.Code.CORRUPT_VIDEO, "the video has no duration");
      }
      double max = config.maxVideoDuration().toNanos() / 1e9;
      if (seconds > max) {
        throw new FoleyException(FoleyException.Code.UNSUPPORTED_VIDEO, String.format(Locale.ROOT, "the video "
            + "lasts %.1f s, longer than this service's limit of %.1f s (foley serve --max-video-duration): trim it "
            + "or split it into parts of at most that length", seconds, max));
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

  private HttpError tooLarge(long length) {
    return new HttpError(413, "TOO_LARGE", "the upload" + (length > 0 ? " (" + length + " bytes)" : "")
        + " is over this service's limit of " + config.maxUploadBytes() + " bytes; send a shorter or smaller video",
        0);
  }

  /** Jetty's refusal of a form whose text fields are over {@link #MAX_FORM_BYTES} in all. */
  private static boolean isFormLimit(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (String.valueOf(t.getMessage()).startsWith("Form is larger than max length")) {
        return true;
      }
    }
    return false;
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
    return wholeNumber(name, ctx.formParam(name));
  }

  /** A form field's or query parameter's whole number; null when absent or blank. */
  private static Integer wholeNumber(String name, String v) {
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

  /** A finite number: NaN and the infinities are refused, not taken as "unset". */
  private static double number(String v, String name) {
    double d;
    try {
      d = Double.parseDouble(v.strip());
    } catch (NumberFormatException e) {
      d = Double.NaN;
    }
    if (!Double.isFinite(d)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, name + " must be a finite number such as 4.5, "
          + "got \"" + v + "\"; leave the field out for the bundle's default");
    }
    return d;
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
    java.nio.channels.SeekableByteChannel ch;
    try {
      ch = Files.newByteChannel(file); // open first: once open, expiry deleting the file does not cut the answer
    } catch (java.nio.file.NoSuchFileException e) {
      throw new HttpError(404, "NOT_FOUND", "the result file is gone (expired)", 0);
    }
    try (InputStream in = java.nio.channels.Channels.newInputStream(ch)) {
      ctx.contentType(type);
      ctx.header("Content-Disposition", "inline; filename=\"" + name + "\"");
      ctx.res().setContentLengthLong(ch.size());
      in.transferTo(ctx.res().getOutputStream());
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
    if (hasUnreadBody(ctx) && !drainBody(ctx)) {
      // refused before a large body was read (no key, over the rate, not ready, a multipart parser that
      // gave up): the server drops the rest of it and closes the connection, so a client must not send
      // its next request on it; the close lingers so that the client reads this answer first
      ctx.header("Connection", "close");
      lingerAfterAnswer(ctx);
    }
    json(ctx, status, o);
  }

  /** How long after its answer a connection whose request body could not be drained waits for more of it. */
  static final long LINGER_MILLIS = 2_000;

  /**
   * Closes the connection of a refused request whose body cannot be read to its end the way a
   * lingering close does: once the answer is written, the server's side is shut (the client reads the
   * answer, then end of stream) and what the client still sends is read and dropped, up to {@link
   * #DRAIN_LIMIT_BYTES}, waiting for more until {@link #LINGER_MILLIS} after the answer, before the
   * connection closes (in the thread that completes the answer: the handler's, for an answer this
   * small, which is written at once). Closed at once with the client's bytes unread, the kernel resets
   * the connection, and the reset can discard the answer, or fail the write of a client still sending,
   * before the client reads it.
   */
  private static void lingerAfterAnswer(Context ctx) {
    Request request = ServletContextRequest.getServletContextRequest(ctx.req());
    if (request == null) {
      return;
    }
    EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
    // the answer has been written when the stream completes (with the body unread, Jetty fails it), and
    // Jetty closes the connection once the completion returns: the lingering happens before
    request.addHttpStreamWrapper(stream -> new HttpStream.Wrapper(stream) {
      @Override
      public void succeeded() {
        dropUntilClosed(endPoint);
        super.succeeded();
      }

      @Override
      public void failed(Throwable x) {
        dropUntilClosed(endPoint);
        super.failed(x);
      }
    });
  }

  /** Shuts the output of {@code endPoint} and reads and drops its input until end of stream or a bound. */
  private static void dropUntilClosed(EndPoint endPoint) {
    try {
      endPoint.shutdownOutput();
      ByteBuffer buffer = BufferUtil.allocate(64 << 10);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
      long read = 0;
      while (read <= DRAIN_LIMIT_BYTES) {
        BufferUtil.clear(buffer);
        int n = endPoint.fill(buffer);
        if (n < 0) {
          return;
        }
        read += n;
        if (n == 0) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return;
          }
          FutureCallback readable = new FutureCallback();
          endPoint.fillInterested(readable);
          readable.get(left, TimeUnit.NANOSECONDS);
        }
      }
    } catch (Exception e) {
      // the connection is closed next in any case
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The most of a refused request's body that is read and dropped so that its client sees the answer. */
  static final long DRAIN_LIMIT_BYTES = 8L << 20;

  /**
   * Reads and drops the rest of a refused request's body when it is at most {@link
   * #DRAIN_LIMIT_BYTES} (declared, or read so far of a chunked one). Answering while the client
   * still sends, then closing, makes the kernel reset the connection, and the reset can discard the
   * answer before the client reads it (it sees "no bytes" or a broken pipe instead of its 401, 413 or
   * 429). Read to its end, the connection stays usable. Returns false where the body is larger or
   * cannot be read (a multipart parser gave up on it): then it is dropped and the connection closed.
   */
  private static boolean drainBody(Context ctx) {
    long length = ctx.contentLength();
    if (length > DRAIN_LIMIT_BYTES) {
      return false;
    }
    // a chunked body (no length) is read up to the same bound: one that ends within it keeps its connection
    try {
      InputStream bounded = ctx.req().getInputStream();
      byte[] buf = new byte[64 << 10];
      long read = 0;
      for (int n; (n = bounded.read(buf)) >= 0; ) {
        read += n;
        if (read > DRAIN_LIMIT_BYTES) {
          return false;
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
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
    Engines e = engines;
    if (e != null) {
      e.close();
    } else if (engine != null) {
      engine.close();
    } else if (models != null) {
      models.close();
    }
    registry.close();
  }
}
