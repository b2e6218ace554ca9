package io.foley4j.cli;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyModels;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.server.FoleyService;
import io.foley4j.server.ServiceConfig;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.VideoSources;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code foley serve}: the HTTP service (see docs/operations.md). Runs until SIGTERM or Ctrl-C. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run the Foley HTTP service: jobs, SSE progress, WAV/video results, metrics, a web page.")
final class ServeCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  EngineOptions engineOptions = new EngineOptions();

  @Option(names = "--port", defaultValue = "8080", description = "Port (0: any free one; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "127.0.0.1",
      description = "Address to bind (default ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
  String host;

  @picocli.CommandLine.Mixin
  ExtractLimit extractLimit = new ExtractLimit();

  @picocli.CommandLine.Mixin
  VerifiedFilesOption verifiedFiles = new VerifiedFilesOption();

  @Option(names = "--bundle", description = "Model bundle directory or archive (default: the built-in reference model).")
  Path bundlePath;

  @Option(names = "--model", paramLabel = "NAME=PATH", description = "Serve several models (repeat): a job's model"
      + " field picks one by NAME; each loads on first use and the least recently used idle one unloads when"
      + " another needs room under --models-memory. Instead of --bundle.")
  List<String> modelSpecs = new ArrayList<>();

  @Option(names = "--models-memory", description = "With --model: bytes the loaded models may take together, e.g."
      + " 24G (default: no limit, nothing unloads). A model counts the bytes of its bundle's files.")
  String modelsMemory;

  @Option(names = "--default-model", description = "With --model: the model of a job that names none (default: the"
      + " first --model).")
  String defaultModel;





  @Option(names = "--redis", description = "Redis URI (redis://host:port): many nodes share one job stream.")
  URI redis;

  @Option(names = "--node-id", description = "This node's name in the stream's consumer group (default: host-pid).")
  String nodeId;

  @Option(names = "--visibility-timeout", defaultValue = "PT60S",
      description = "Unacknowledged jobs older than this are reclaimed by other nodes (default ${DEFAULT-VALUE}).")
  Duration visibility;

  @Option(names = "--worker-jobs", description = "With --redis: stream entries this node works on at once "
      + "(default: --max-concurrent).")
  Integer workerJobs;

  @Option(names = "--data-dir", defaultValue = "foley-data",
      description = "Uploads and results (shared by every node with --redis; default ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--max-upload", defaultValue = "500MB", description = "Largest upload, e.g. 500MB, 2GB (default ${DEFAULT-VALUE}).")
  String maxUpload;

  @Option(names = "--result-cache", defaultValue = "256MB", description = "Bound of the in-memory result cache, e.g."
      + " 256MB, 2GB; 0: none (default ${DEFAULT-VALUE}). Identical requests after --retention are answered from it.")
  String resultCache;

  @Option(names = "--retention", defaultValue = "PT1H", description = "How long results are kept (default ${DEFAULT-VALUE}).")
  Duration retention;

  @Option(names = "--api-keys-file", description = "File of accepted API keys, one a line (also: env FOLEY_API_KEYS, comma-separated).")
  Path apiKeysFile;

  @Option(names = "--admin-keys-file", description = "File of admin API keys, one a line (also: env FOLEY_ADMIN_KEYS,"
      + " comma-separated): they see, download and cancel every key's jobs; other keys see only their own.")
  Path adminKeysFile;

  @Option(names = "--max-video-duration", defaultValue = "PT10M", description = "Longest video accepted (ISO-8601,"
      + " default ${DEFAULT-VALUE}); longer uploads are refused with 400.")
  Duration maxVideoDuration;

  @Option(names = "--rate", defaultValue = "0", description = "Jobs per second per client (API key, else IP); 0: no limit.")
  double rate;

  @Option(names = "--burst", defaultValue = "10", description = "Jobs a client may send at once (default ${DEFAULT-VALUE}).")
  int burst;

  @Option(names = "--max-queued", defaultValue = "256", description = "Jobs waiting in the engine; beyond: 503 (default ${DEFAULT-VALUE}).")
  int maxQueued;

  @Option(names = "--max-concurrent", defaultValue = "8", description = "Jobs running at once (default ${DEFAULT-VALUE}).")
  int maxConcurrent;

  @Option(names = "--webhook-host", description = "Host names webhooks may target (repeat; default: any).")
  Set<String> webhookHosts = new HashSet<>();

  @Option(names = "--drain-timeout", defaultValue = "PT30S", description = "Graceful shutdown waits this long for running jobs.")
  Duration drain;

  @Override
  public Integer call() throws Exception {
    engineOptions.configure(FoleyEngine.builder()); // bad options: exit 2 now
    io.foley4j.video.VideoSourceFactory sources = engineOptions.decoder();
    ServiceConfig config = ServiceConfig.defaults(dataDir).withHost(host).withPort(port)
        .withMaxUpload(parseSize(maxUpload)).withRetention(retention).withApiKeys(apiKeys())
        .withRate(rate, burst).withWebhooks(Duration.ofSeconds(5), 3, lower(webhookHosts)).withDrainTimeout(drain)
        .withAdminKeys(keys("FOLEY_ADMIN_KEYS", adminKeysFile, "--admin-keys-file"))
        .withMaxVideoDuration(positive(maxVideoDuration))
        .withResultCacheBytes(parseSize("--result-cache", resultCache, true));
    if (redis != null) {
      config = config.withRedis(redis, nodeId != null ? nodeId : config.nodeId(), visibility)
          .withWorkerJobs(workerJobs != null ? workerJobs : maxConcurrent);
    }
    FoleyModels.Builder models = modelSpecs.isEmpty() ? null : models();
    if (models != null) {
      models.build().close(); // a bad default model: exit 2 now (building loads nothing)
    }
    ModelBundle bundle = models != null ? null : bundlePath == null ? ReferenceModel.bundle()
        : extractLimit.open(bundlePath, verifiedFiles);
    FoleyEngine.Builder engine = models != null ? null : settings(FoleyEngine.builder().bundle(bundle));
    // SIGTERM/SIGINT/SIGHUP only ask to stop: the drain runs on this thread, and the JVM's shutdown (with
    // ONNX Runtime's hook, which frees the native environment) starts only after the engine is closed
    CountDownLatch stopRequested = new CountDownLatch(1);
    AtomicReference<String> signal = new AtomicReference<>();
    List<String> handled = StopSignals.install(name -> {
      if (!signal.compareAndSet(null, name)) {
        System.err.println("foley serve: already shutting down (up to --drain-timeout " + drain
            + "); SIGKILL stops at once, losing what runs");
      }
      stopRequested.countDown();
    });
    FoleyService service;
    try {
      service = models != null ? FoleyService.start(config, models, sources)
          : FoleyService.start(config, engine, sources);
    } catch (RuntimeException e) {
      closeQuietly(bundle);
      throw e;
    }
    AtomicBoolean closed = new AtomicBoolean();
    // a JVM shutdown that no handled signal started (System.exit elsewhere, a signal kept by the JVM):
    // still try to drain, though this hook races ONNX Runtime's own one
    Thread hook = new Thread(() -> {
      if (closed.compareAndSet(false, true)) {
        try {
          service.close();
        } finally {
          closeQuietly(bundle);
        }
      }
    }, "foley-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    if (handled.size() < 3) {
      System.err.println("foley serve: " + (handled.isEmpty() ? "no stop signal is" : "only SIG"
          + String.join("/SIG", handled) + " are") + " handled; other signals stop the JVM "
          + "at once and may crash a running job (ONNX Runtime frees its environment in a shutdown hook)");
    }
    System.out.println("foley serve: listening on " + service.uri() + (redis != null ? " (stream on " + redis + ")" : ""));
    System.out.flush();
    stopRequested.await();
    if (closed.compareAndSet(false, true)) {
      System.out.println("foley serve: stopping (SIG" + signal.get() + "): draining for up to " + drain);
      System.out.flush();
      try {
        service.close(); // graceful: stop accepting, drain, hand back, close the engine and its sessions
      } finally {
        closeQuietly(bundle);
      }
      System.out.println("foley serve: stopped");
      System.out.flush();
    }
    return 0;
  }

  private static void closeQuietly(ModelBundle bundle) {
    if (bundle != null) {
      bundle.close();
    }
  }

  /** One engine's settings: the engine options, queue and concurrency, and a full warm-up by default. */
  private FoleyEngine.Builder settings(FoleyEngine.Builder b) {
    engineOptions.configure(b).maxQueuedRequests(maxQueued).maxConcurrentRequests(maxConcurrent);
    if (engineOptions.warmUp == null) {
      // a service: /health/ready only once a whole request has run, so the first user's is as fast as any
      b.warmUp(io.foley4j.WarmUp.FULL);
    }
    return b;
  }

  /** The --model NAME=PATH list as a FoleyModels builder; bad specs exit 2. */
  private FoleyModels.Builder models() {
    if (bundlePath != null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--bundle and --model exclude each other: name every"
          + " model with --model NAME=PATH");
    }
    FoleyModels.Builder b = FoleyModels.builder();
    for (String spec : modelSpecs) {
      int eq = spec.indexOf('=');
      if (eq <= 0 || eq == spec.length() - 1) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--model takes NAME=PATH, got '" + spec + "'");
      }
      Path path = Path.of(spec.substring(eq + 1));
      if (!java.nio.file.Files.exists(path)) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--model " + spec + ": " + path + " does not exist");
      }
      b.model(spec.substring(0, eq), () -> extractLimit.open(path, verifiedFiles), this::settings, 0);
    }
    if (modelsMemory != null) {
      b.memoryBudgetBytes(parseSize(modelsMemory));
    }
    if (defaultModel != null) {
      b.defaultModel(defaultModel);
    }
    return b;
  }

  private Set<String> apiKeys() throws IOException {
    return keys("FOLEY_API_KEYS", apiKeysFile, "--api-keys-file");
  }

  /** {@code --max-video-duration}, refused with exit 2 unless positive. */
  static Duration positive(Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--max-video-duration must be positive, such as"
          + " PT10M, got " + d);
    }
    return d;
  }

  /** Keys from a comma-separated environment variable and a file of one key a line ({@code #} comments). */
  private static Set<String> keys(String envName, Path file, String option) throws IOException {
    Set<String> keys = new HashSet<>();
    String env = System.getenv(envName);
    if (env != null) {
      for (String k : env.split(",")) {
        if (!k.isBlank()) {
          keys.add(k.strip());
        }
      }
    }
    if (file != null) {
      if (!Files.isRegularFile(file)) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, option + " " + file
            + " is not a readable file");
      }
      for (String line : Files.readAllLines(file)) {
        String k = line.strip();
        if (!k.isEmpty() && !k.startsWith("#")) {
          keys.add(k);
        }
      }
    }
    return keys;
  }

  private static Set<String> lower(Set<String> hosts) {
    Set<String> out = new HashSet<>();
    hosts.forEach(h -> out.add(h.toLowerCase(Locale.ROOT)));
    return out;
  }

  /** "500MB", "2GB", "64KB" or a number of bytes, for --max-upload. */
  static long parseSize(String s) {
    return parseSize("--max-upload", s, false);
  }

  /** "500MB", "2GB", "64KB" or a number of bytes, for {@code option}; 0 only where {@code zero} allows it. */
  static long parseSize(String option, String s, boolean zero) {
    String v = s.strip().toUpperCase(Locale.ROOT);
    long unit = 1;
    for (String[] u : new String[][] {{"GB", "1073741824"}, {"MB", "1048576"}, {"KB", "1024"}, {"B", "1"}}) {
      if (v.endsWith(u[0])) {
        unit = Long.parseLong(u[1]);
        v = v.substring(0, v.length() - u[0].length()).strip();
        break;
      }
    }
    try {
      long n = Long.parseLong(v);
      if (n < (zero ? 0 : 1) || n > Long.MAX_VALUE / unit) {
        throw new NumberFormatException();
      }
      return n * unit;
    } catch (NumberFormatException e) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, option + " must be a size such as 500MB, "
          + "2GB or 65536" + (zero ? " (0: none)" : "") + ", got \"" + s + "\"");
    }
  }
}
