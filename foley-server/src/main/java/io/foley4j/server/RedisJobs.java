package io.foley4j.server;

import io.foley4j.jcodec.Mp4Outputs;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.AudioChunk;
import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyListener;
import io.foley4j.FoleyResult;
import io.foley4j.Progress;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.models.stream.ClaimedMessages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Jobs on a Redis stream that every node's worker reads through one consumer group: at-least-once
 * delivery, acknowledged only after the result is stored, reclaimed from a dead node with
 * XAUTOCLAIM after the visibility timeout, idempotent through the job's "finished" key (the first
 * node to finish a job records it; a second run of the same entry only acknowledges it). Uploads
 * and results are files in the data directory, which every node must share; job state and each
 * job's SSE log live in Redis, so any node answers for any job.
 *
 * <p>Keys: {@code foley:jobs} (the stream), group {@code foley-workers};
 * {@code foley:job:<id>} (hash: json, status, node), {@code foley:job:<id>:events} (list of SSE
 * frames), {@code foley:job:<id>:finished}, {@code foley:job:<id>:cancel}, and
 * {@code foley:done:<request key>} (the id of a done job with that request). All expire after the
 * retention.
 *
 * <p>When Redis is unreachable (down, restarting, paused), commands fail within
 * {@link #COMMAND_TIMEOUT} (at once while disconnected) and the API answers 503 with Retry-After;
 * {@link #unavailable()} (a PING, cached for {@link #HEALTH_CACHE}) turns {@code /health/ready} to
 * 503. A Redis that comes back without its data (no persistence) has lost the consumer group: the
 * worker recreates it (and the stream) when a command answers NOGROUP.
 */
final class RedisJobs implements Jobs {
  static final String STREAM = "foley:jobs";
  static final String GROUP = "foley-workers";
  /** Entries no node can run (malformed), with the reason; kept for an operator to inspect. */
  static final String DEAD = "foley:jobs:dead";
  private static final Logger LOG = Logger.getLogger(RedisJobs.class.getName());
  /** The longest a command waits for Redis before the request fails (503). */
  static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(3);
  /** How long a health probe's answer is reused, and the longest a probe waits. */
  static final Duration HEALTH_CACHE = Duration.ofMillis(500);
  static final Duration PING_TIMEOUT = Duration.ofSeconds(1);
  /** Retry-After, in seconds, of a request refused because Redis is unreachable. */
  static final long RETRY_AFTER_SECONDS = 2;

  /** KEYS finished, events, job, done; ARGV node, frame, json, status, ttl seconds, done id or "". */
  private static final String FINISH = """
      if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[5]) then
        redis.call('RPUSH', KEYS[2], ARGV[2])
        redis.call('HSET', KEYS[3], 'json', ARGV[3], 'status', ARGV[4])
        redis.call('EXPIRE', KEYS[2], ARGV[5])
        redis.call('EXPIRE', KEYS[3], ARGV[5])
        if ARGV[6] ~= '' then redis.call('SET', KEYS[4], ARGV[6], 'EX', ARGV[5]) end
        return 1
      end
      return 0""";

  /** KEYS finished, events, job; ARGV frame, json: appends progress unless the job has finished. */
  private static final String MIRROR = """
      if redis.call('EXISTS', KEYS[1]) == 0 then
        redis.call('RPUSH', KEYS[2], ARGV[1])
        redis.call('HSET', KEYS[3], 'json', ARGV[2], 'status', 'running')
        return 1
      end
      return 0""";

  private final ServiceConfig config;
  private final Engines engines;
  private final Path uploads;
  private final Path results;
  private final ExecutorService finisher;
  private final Webhooks webhooks;
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> conn;
  private final StatefulRedisConnection<String, String> reader;
  private final RedisCommands<String, String> redis;
  private final RedisAsyncCommands<String, String> async;
  private final Consumer<String> me;
  private final Map<String, Held> held = new ConcurrentHashMap<>(); // by stream entry id
  private final Thread worker;
  private final long ttlSeconds;
  private volatile boolean taking = true;
  private volatile boolean running = true;
  private volatile boolean storeDown; // the worker's view, for logging an outage once
  private final Object healthLock = new Object();
  private long healthCheckedAt; // System.nanoTime of the last probe, under healthLock
  private String healthProblem; // null when the last probe answered PONG, under healthLock
  private boolean healthChecked;

  /** A stream entry this node is working on. */
  private record Held(String entry, JobSpec spec, JobRecord rec, FoleyJob job, boolean[] handBack) {}

  private RedisJobs(ServiceConfig config, Engines engines, Path uploads, Path results, ExecutorService finisher,
      Webhooks webhooks) {
    this.config = config;
    this.engines = engines;
    this.uploads = uploads;
    this.results = results;
    this.finisher = finisher;
    this.webhooks = webhooks;
    this.ttlSeconds = Math.max(1, config.retention().toSeconds());
    RedisURI uri = RedisURI.create(config.redis().toString());
    uri.setTimeout(COMMAND_TIMEOUT);
    this.client = RedisClient.create(uri);
    // fail fast: commands are refused while disconnected instead of queued, and time out after a few seconds
    client.setOptions(ClientOptions.builder()
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
        .socketOptions(SocketOptions.builder().connectTimeout(COMMAND_TIMEOUT).build())
        .build());
    StatefulRedisConnection<String, String> c = null;
    StatefulRedisConnection<String, String> r = null;
    try {
      c = client.connect();
      r = client.connect();
    } catch (RedisException e) {
      if (c != null) {
        c.close();
      }
      client.shutdown();
      throw new FoleyException(FoleyException.Code.IO, "cannot connect to Redis at " + config.redis() + ": "
          + e.getMessage() + "; check --redis", e);
    }
    this.conn = c;
    this.reader = r;
    this.redis = c.sync();
    this.async = c.async();
    this.me = Consumer.from(GROUP, config.nodeId());
    this.worker = new Thread(this::work, "foley-serve-stream-worker");
    this.worker.setDaemon(true);
  }

  static RedisJobs start(ServiceConfig config, Engines engines, Path uploads, Path results,
      ExecutorService finisher, Webhooks webhooks) {
    RedisJobs jobs = new RedisJobs(config, engines, uploads, results, finisher, webhooks);
    try {
      jobs.createGroup();
    } catch (RedisException e) {
      jobs.close();
      throw new FoleyException(FoleyException.Code.IO, "cannot create the consumer group on " + config.redis()
          + ": " + e.getMessage(), e);
    }
    jobs.worker.start();
    return jobs;
  }

  /** Creates the stream and its consumer group unless they exist (another node, or an earlier run, made them). */
  private void createGroup() {
    try {
      redis.xgroupCreate(XReadArgs.StreamOffset.from(STREAM, "0"), GROUP, XGroupCreateArgs.Builder.mkstream());
    } catch (RedisBusyException exists) {
      // BUSYGROUP: another node created it
    }
  }

  private static boolean isNoGroup(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().startsWith("NOGROUP")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Why Redis cannot serve requests now (null when it answers PING): probed with a PING of at most
   * {@link #PING_TIMEOUT}, the answer reused for {@link #HEALTH_CACHE}, one probe at a time.
   */
  @Override
  public String unavailable() {
    synchronized (healthLock) {
      long now = System.nanoTime();
      if (healthChecked && now - healthCheckedAt < HEALTH_CACHE.toNanos()) {
        return healthProblem;
      }
      String problem;
      try {
        String pong = async.ping().get(PING_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        problem = "PONG".equals(pong) ? null : "Redis answered PING with " + pong;
      } catch (TimeoutException e) {
        problem = "Redis at " + config.redis() + " did not answer PING within " + PING_TIMEOUT.toMillis() + " ms";
      } catch (ExecutionException | RedisException e) {
        Throwable why = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        problem = "Redis at " + config.redis() + " is unreachable: " + why.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted while checking Redis";
      }
      healthProblem = problem;
      healthCheckedAt = System.nanoTime();
      healthChecked = true;
      return problem;
    }
  }

  /** Runs an API-side command; Redis being unreachable becomes 503 with Retry-After instead of a 500. */
  private <T> T store(Supplier<T> command) {
    try {
      return command.get();
    } catch (RedisException e) {
      throw new HttpError(503, "UNAVAILABLE", "the job store (Redis at " + config.redis() + ") cannot be reached: "
          + e.getMessage() + "; retry shortly", RETRY_AFTER_SECONDS);
    }
  }

  private static String job(String id) {
    return "foley:job:" + id;
  }

  private static String events(String id) {
    return "foley:job:" + id + ":events";
  }

  private static String finished(String id) {
    return "foley:job:" + id + ":finished";
  }

  private static String cancelKey(String id) {
    return "foley:job:" + id + ":cancel";
  }

  private static String done(String key) {
    return "foley:done:" + key;
  }

  // ---------------------------------------------------------------- the API side (any node)

  @Override
  public JsonObject doneFor(String key) {
    String id = store(() -> redis.get(done(key)));
    JsonObject o = id == null ? null : status(id);
    return o != null && o.get("status").getAsString().equals("done") ? o : null;
  }

  @Override
  public JsonObject submit(JobSpec spec) {
    JsonObject json = new JobRecord(spec.id(), spec.key(), uploads.resolve(spec.videoName()), spec.client(),
        spec.webhook()).toJson();
    return store(() -> {
      redis.hset(job(spec.id()), Map.of("json", json.toString(), "status", "queued", "owner", spec.client()));
      // bounded even if no node ever takes it; reset to the retention when it finishes
      redis.expire(job(spec.id()), ttlSeconds + Duration.ofDays(1).toSeconds());
      redis.xadd(STREAM, spec.toFields());
      return json;
    });
  }

  @Override
  public String owner(String id) {
    List<String> v = store(() -> redis.hmget(job(id), "json", "owner")).stream().map(kv -> kv.getValueOrElse(null))
        .toList();
    return v.get(0) == null ? null : v.get(1) == null ? "" : v.get(1);
  }

  @Override
  public boolean kept(String id) {
    return store(() -> redis.exists(job(id))) > 0;
  }

  @Override
  public JsonObject status(String id) {
    String json = store(() -> redis.hget(job(id), "json"));
    return json == null ? null : JsonParser.parseString(json).getAsJsonObject();
  }

  @Override
  public Slice events(String id, int from, long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (true) {
      String status = store(() -> redis.hget(job(id), "status"));
      if (status == null) {
        return null;
      }
      // the terminal frame is pushed before the status changes: a terminal status means the log is whole
      boolean terminal = status.equals("done") || status.equals("failed") || status.equals("cancelled");
      List<String> frames = store(() -> redis.lrange(events(id), from, -1));
      if (!frames.isEmpty() || terminal || System.nanoTime() >= deadline || !running) {
        return new Slice(frames, terminal);
      }
      Thread.sleep(100);
    }
  }

  @Override
  public JsonObject cancel(String id) {
    JsonObject o = status(id);
    if (o == null) {
      throw HttpError.notFound(id, config.retention());
    }
    String status = o.get("status").getAsString();
    if (!status.equals("queued") && !status.equals("running")) {
      throw HttpError.alreadyFinished(id, status);
    }
    store(() -> redis.setex(cancelKey(id), ttlSeconds, "1"));
    o.addProperty("status", "cancelled");
    JsonObject err = new JsonObject();
    err.addProperty("code", "CANCELLED");
    err.addProperty("message", "cancelled by DELETE /v1/jobs/" + id);
    o.add("error", err);
    if (!store(() -> finishOnce(id, null, o, "cancelled"))) {
      JsonObject now = status(id);
      throw HttpError.alreadyFinished(id, now == null ? "gone" : now.get("status").getAsString());
    }
    return o;
  }

  @Override
  public Path audio(String id, int variant) {
    return result(id, variant, ".wav");
  }

  @Override
  public Path video(String id, int variant) {
    return result(id, variant, ".mov");
  }

  private Path result(String id, int variant, String suffix) {
    JsonObject o = status(id);
    if (o == null) {
      throw HttpError.notFound(id, config.retention());
    }
    if (!o.get("status").getAsString().equals("done")) {
      throw HttpError.notDone(id, o.get("status").getAsString());
    }
    int count = o.has("variants") ? o.getAsJsonArray("variants").size() : 1; // a job of a node from before variants
    if (variant >= count) {
      throw HttpError.noVariant(id, variant, count);
    }
    return results.resolve(JobSpec.resultName(id, variant, suffix));
  }

  /** Records a job's end once across all nodes; false when another run or node already did. */
  private boolean finishOnce(String id, String requestKey, JsonObject json, String status) {
    String frame = "event: " + status + "\ndata: " + json + "\n\n";
    Long first = redis.eval(FINISH, ScriptOutputType.INTEGER,
        new String[] {finished(id), events(id), job(id), done(requestKey == null ? "-" : requestKey)},
        config.nodeId(), frame, json.toString(), status, Long.toString(ttlSeconds),
        status.equals("done") && requestKey != null ? id : "");
    return first != null && first == 1;
  }

  // ---------------------------------------------------------------- the worker (every node)

  private void work() {
    long nextReclaim = 0;
    long nextBeat = 0;
    long visibility = config.visibilityTimeout().toNanos();
    while (running) {
      try {
        long now = System.nanoTime();
        if (now >= nextBeat) {
          heartbeat();
          nextBeat = now + visibility / 4;
        }
        int free = config.workerJobs() - held.size();
        if (taking && free > 0 && now >= nextReclaim) {
          ClaimedMessages<String, String> c = redis.xautoclaim(STREAM, new XAutoClaimArgs<String>().consumer(me)
              .minIdleTime(config.visibilityTimeout()).startId("0-0").count(free));
          for (StreamMessage<String, String> m : c.getMessages()) {
            LOG.info(() -> config.nodeId() + " reclaimed " + m.getId() + " (job " + m.getBody().get("id") + ")");
            take(m);
          }
          nextReclaim = now + visibility / 2;
          free = config.workerJobs() - held.size();
        }
        if (!taking || free <= 0) {
          Thread.sleep(50);
          continue;
        }
        List<StreamMessage<String, String>> got = reader.sync().xreadgroup(me,
            XReadArgs.Builder.count(free).block(300), XReadArgs.StreamOffset.lastConsumed(STREAM));
        if (storeDown) {
          storeDown = false;
          LOG.info(config.nodeId() + ": Redis at " + config.redis() + " answers again; taking jobs");
        }
        for (StreamMessage<String, String> m : got) {
          take(m);
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        if (isNoGroup(e)) {
          // Redis restarted without its data (no persistence): the group, and perhaps the stream, are gone
          try {
            createGroup();
            LOG.warning(config.nodeId() + ": the consumer group " + GROUP + " on " + STREAM + " was gone (Redis lost "
                + "its data?); created it again. Jobs queued before the loss are lost: make Redis persist "
                + "(appendonly yes)");
            continue;
          } catch (RuntimeException again) {
            e = again;
          }
        }
        if (!storeDown) {
          storeDown = true;
          LOG.log(Level.WARNING, config.nodeId() + ": stream worker cannot use Redis at " + config.redis() + ": "
              + e.getMessage() + "; retrying every 500 ms", e);
        } else {
          LOG.fine("stream worker: " + e.getMessage());
        }
        try {
          Thread.sleep(500);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  /** Keeps this node's entries from looking idle, and cancels those that were cancelled elsewhere. */
  private void heartbeat() {
    if (held.isEmpty()) {
      return;
    }
    List<String> ids = new ArrayList<>(held.keySet());
    redis.xclaim(STREAM, me, XClaimArgs.Builder.minIdleTime(0).justid(), ids.toArray(String[]::new));
    for (Held h : held.values()) {
      if (redis.exists(cancelKey(h.spec().id())) > 0) {
        h.job().cancel();
      }
    }
  }

  private void take(StreamMessage<String, String> m) {
    if (m.getBody() == null || m.getBody().isEmpty() || held.containsKey(m.getId())) {
      if (m.getBody() == null || m.getBody().isEmpty()) {
        redis.xack(STREAM, GROUP, m.getId()); // an entry deleted from the stream: nothing to do
      }
      return;
    }
    JobSpec spec;
    try {
      spec = JobSpec.fromFields(m.getBody());
    } catch (IllegalArgumentException e) {
      deadLetter(m, e.getMessage());
      return;
    }
    if (redis.exists(finished(spec.id())) > 0) {
      redis.xack(STREAM, GROUP, m.getId()); // delivered again after it finished: idempotent
      return;
    }
    JobRecord rec = new JobRecord(spec.id(), spec.key(), uploads.resolve(spec.videoName()), spec.client(),
        spec.webhook());
    FoleyJob fj;
    try {
      fj = engines.submit(spec.model(), spec.toRequest(uploads), new Mirror(rec));
    } catch (FoleyException e) {
      fail(m.getId(), spec, rec, e);
      return;
    }
    if (fj.result().isCompletedExceptionally()) {
      FoleyException why = LocalJobs.failure(fj);
      if (why.code() == FoleyException.Code.REJECTED) {
        return; // left pending: taken again after the visibility timeout, here or elsewhere
      }
      fail(m.getId(), spec, rec, why);
      return;
    }
    rec.attach(fj);
    Held h = new Held(m.getId(), spec, rec, fj, new boolean[1]);
    held.put(m.getId(), h);
    redis.hset(job(spec.id()), "node", config.nodeId());
    fj.result().whenCompleteAsync((r, e) -> complete(h, r), finisher);
  }

  /**
   * An entry this service did not write (a missing or malformed field): copied to {@link #DEAD} with the
   * reason, logged and acknowledged, so that it is not delivered again forever; a job it names that is
   * still open fails with INVALID_ARGUMENT.
   */
  private void deadLetter(StreamMessage<String, String> m, String reason) {
    LOG.warning(() -> "stream entry " + m.getId() + " is malformed (" + reason + "); moved to " + DEAD);
    Map<String, String> dead = new java.util.HashMap<>(m.getBody());
    dead.put("dead_entry", m.getId());
    dead.put("dead_reason", reason);
    dead.put("dead_node", config.nodeId());
    redis.xadd(DEAD, dead);
    String id = m.getBody().get("id");
    try {
      JsonObject o = JobSpec.validId(id) ? status(id) : null;
      if (o != null && Set.of("queued", "running").contains(o.get("status").getAsString())) {
        o.addProperty("status", "failed");
        JsonObject err = new JsonObject();
        err.addProperty("code", FoleyException.Code.INVALID_ARGUMENT.name());
        err.addProperty("message", "the job's stream entry " + m.getId() + " is malformed (" + reason + "); submit "
            + "the job again");
        o.add("error", err);
        finishOnce(id, null, o, "failed");
      }
    } catch (RuntimeException e) { // a job record as malformed as its entry: the entry is still acknowledged
      LOG.log(Level.WARNING, "cannot mark job " + id + " of malformed entry " + m.getId() + " failed", e);
    }
    redis.xack(STREAM, GROUP, m.getId());
  }

  private void fail(String entry, JobSpec spec, JobRecord rec, FoleyException e) {
    rec.failed(e);
    if (finishOnce(spec.id(), spec.key(), rec.toJson(), rec.status().json()) && spec.webhook() != null) {
      webhooks.deliver(spec.webhook(), rec.toJson().toString());
    }
    redis.xack(STREAM, GROUP, entry);
  }

  /** On a finisher thread: stores the result where every node reads it, records the end once, then acknowledges. */
  private void complete(Held h, FoleyResult result) {
    String id = h.spec().id();
    try {
      if (result == null) {
        FoleyException why = LocalJobs.failure(h.job());
        synchronized (h.handBack()) {
          if (h.handBack()[0]) {
            return; // shutting down: left pending for another node to reclaim
          }
        }
        fail(h.entry(), h.spec(), h.rec(), why);
        return;
      }
      try {
        for (int v = 0; v < result.variantCount(); v++) { // every variant's files before the job shows done
          FoleyResult one = result.variant(v);
          store(one, JobSpec.resultName(id, v, ".wav"), p -> one.writeWav(p));
          store(one, JobSpec.resultName(id, v, ".mov"), p -> Mp4Outputs.writeVideoWithSound(one, p));
        }
      } catch (IOException | RuntimeException e) {
        fail(h.entry(), h.spec(), h.rec(), e instanceof FoleyException f ? f
            : new FoleyException(FoleyException.Code.IO, "cannot store the result: " + e, e));
        return;
      }
      h.rec().done(result);
      JsonObject json = h.rec().toJson();
      if (finishOnce(id, h.spec().key(), json, "done") && h.spec().webhook() != null) {
        webhooks.deliver(h.spec().webhook(), json.toString());
      }
      redis.xack(STREAM, GROUP, h.entry());
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "finishing job " + id + " failed; it stays pending and is retried", e);
    } finally {
      held.remove(h.entry());
    }
  }

  private void store(FoleyResult result, String name, java.util.function.Consumer<Path> write) throws IOException {
    Path tmp = results.resolve(name + "." + config.nodeId() + ".tmp");
    write.accept(tmp);
    Files.move(tmp, results.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Mirrors a job's progress and chunks into Redis without blocking the engine's thread (async commands). */
  private final class Mirror implements FoleyListener {
    private final JobRecord rec;
    private int pushed;

    Mirror(JobRecord rec) {
      this.rec = rec;
    }

    @Override
    public void onProgress(Progress p) {
      rec.onProgress(p);
      push();
    }

    @Override
    public void onChunk(AudioChunk c) {
      rec.onChunk(c);
      push();
    }

    private void push() {
      List<String> frames;
      try {
        frames = rec.eventsFrom(pushed, 0);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      String json = rec.toJson().toString();
      for (String f : frames) {
        async.eval(MIRROR, ScriptOutputType.INTEGER, new String[] {finished(rec.id), events(rec.id), job(rec.id)},
            f, json);
      }
      pushed += frames.size();
    }
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void drain(long deadlineNanos) throws InterruptedException {
    taking = false;
    while (!held.isEmpty() && System.nanoTime() < deadlineNanos) {
      Thread.sleep(50);
    }
    for (Held h : held.values()) {
      synchronized (h.handBack()) {
        h.handBack()[0] = true;
      }
      h.job().cancel();
      LOG.info(() -> "handing back job " + h.spec().id() + ": another node reclaims it after "
          + config.visibilityTimeout().toSeconds() + " s");
    }
  }

  @Override
  public void expire() {
    Instant limit = Instant.now().minus(config.retention());
    for (Path dir : List.of(results, uploads)) {
      try (Stream<Path> files = Files.list(dir)) {
        files.forEach(p -> {
          try {
            if (Files.getLastModifiedTime(p).toInstant().isBefore(limit)) {
              String name = p.getFileName().toString();
              String id = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
              // an upload waits as long as its job is neither finished nor expired
              if (dir.equals(results) || redis.exists(job(id)) == 0 || redis.exists(finished(id)) > 0) {
                Files2.deleteQuietly(p);
              }
            }
          } catch (IOException | RedisException e) {
            LOG.fine(() -> "expiry skipped " + p + ": " + e);
          }
        });
      } catch (IOException e) {
        LOG.fine(() -> "cannot list " + dir + ": " + e);
      }
    }
    // upload parts that a node killed mid-upload left in its spill directory (tmp/<node>): a live upload
    // writes its part as it arrives, so a part untouched for the whole retention is abandoned (directories
    // stay: a live node's spill directory must not go)
    Files2.deleteUnder(uploads.resolveSibling("tmp"), p -> !Files.isDirectory(p) && Files2.olderThan(p, limit));
  }

  @Override
  public void close() {
    running = false;
    taking = false;
    worker.interrupt();
    try {
      worker.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    reader.close();
    conn.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
