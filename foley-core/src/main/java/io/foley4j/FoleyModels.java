package io.foley4j;

import io.foley4j.bundle.ModelBundle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Several models in one process, by name, within a memory budget: each model is a bundle and an
 * engine built on it. A model loads on the first request that names it (its engine is built and
 * warmed up as {@link FoleyEngine.Builder#build()} does); when a model needs room that the budget
 * does not have, the least recently used model with no job in flight is unloaded (its engine and
 * bundle closed). A model with a job in flight is never unloaded: a load that finds no idle model to
 * unload waits for one, up to {@link Builder#loadWait}. Concurrent first requests load a model once;
 * a model that fails to load fails only the requests that name it, and for {@link
 * Builder#retryFailedLoadAfter} more requests fail at once with the same error before a new load is
 * tried.
 *
 * <pre>{@code
 * try (FoleyModels models = FoleyModels.builder()
 *     .model("hvf-xl", Path.of("/models/hvf-xl"), b -> b.maxConcurrentRequests(8))
 *     .model("mmaudio-s", Path.of("/models/mmaudio-s.tar.gz"), b -> {})
 *     .memoryBudgetBytes(24L << 30)
 *     .build()) {
 *   FoleyJob job = models.submit("mmaudio-s", request, listener);
 * }
 * }</pre>
 *
 * <p>A model's size is the bytes of its bundle's files (ONNX graphs and their external data, which
 * ONNX Runtime holds in memory once loaded) unless given with {@link Builder#model(String, Supplier,
 * Consumer, long)}. The budget counts loaded models, models loading and models still closing.
 * Submitting may block while the named model loads or waits for room; everything else about a job
 * is its engine's ({@link FoleyEngine#submit}).
 */
public final class FoleyModels implements AutoCloseable {
  /** Where a model is. */
  public enum State {
    /** Not loaded (never, or unloaded to make room). */
    UNLOADED,
    /** Its bundle is opening and its engine building. */
    LOADING,
    /** Its engine takes jobs. */
    READY,
    /** Its engine is closing to make room. */
    UNLOADING,
    /** Its last load failed (see {@link ModelInfo#lastError}). */
    FAILED
  }

  /**
   * A model as it stands.
   *
   * @param name the model's name
   * @param state where it is
   * @param bytes its size as the budget counts it (0 before its first load unless given)
   * @param jobsInFlight jobs submitted to it that have not finished
   * @param loads loads started
   * @param unloads unloads to make room
   * @param failedLoads loads that failed
   * @param lastUsedNanos the {@link System#nanoTime()} of its last submit (0: never)
   * @param lastError the message of its last failed load, or null
   * @param stats its engine's statistics while it is READY, or null
   */
  public record ModelInfo(String name, State state, long bytes, int jobsInFlight, long loads, long unloads,
      long failedLoads, long lastUsedNanos, String lastError, EngineStats stats) {}

  private final Map<String, Model> models;
  private final String defaultModel;
  private final long budget;
  private final long loadWaitNanos;
  private final long retryFailedNanos;
  private final Consumer<FoleyEngine.Builder> common;
  private final Monitor lock = Monitor.leaf("models");
  private boolean closed;

  private FoleyModels(Builder b) {
    this.models = new LinkedHashMap<>();
    for (Model m : b.models) {
      models.put(m.name, m);
    }
    this.defaultModel = b.defaultModel != null ? b.defaultModel : b.models.get(0).name;
    this.budget = b.budget;
    this.loadWaitNanos = b.loadWait.toNanos();
    this.retryFailedNanos = b.retryFailedLoadAfter.toNanos();
    this.common = b.common;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The model a request without a name goes to. */
  public String defaultModel() {
    return defaultModel;
  }

  /** The models' names, in the order they were added. */
  public List<String> names() {
    return List.copyOf(models.keySet());
  }

  /** Submits to the default model. */
  public FoleyJob submit(FoleyRequest request, FoleyListener listener) {
    return submit(defaultModel, request, listener);
  }

  /**
   * Submits a request to the named model, loading it first if needed (this call then blocks while it
   * loads, or while it waits for room). Fails with {@code INVALID_ARGUMENT} for an unknown name,
   * {@code REJECTED} when the model does not fit the budget or no room frees up within {@link
   * Builder#loadWait}, the model's load error when it cannot load, {@code CLOSED} after {@link #close}.
   */
  public FoleyJob submit(String model, FoleyRequest request, FoleyListener listener) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(listener, "listener");
    Model m = model(model);
    FoleyEngine engine = acquire(m);
    FoleyJob job;
    try {
      job = engine.submit(request, listener);
    } catch (RuntimeException | Error e) {
      release(m);
      throw e;
    }
    job.result().whenComplete((r, e) -> release(m));
    return job;
  }

  /** Loads a model now (for a warm start), as the first request naming it would. */
  public void load(String model) {
    Model m = model(model);
    acquire(m);
    release(m);
  }

  /** Every model as it stands, in the order they were added. */
  public List<ModelInfo> models() {
    List<ModelInfo> out = new ArrayList<>();
    List<FoleyEngine> ready = new ArrayList<>();
    List<Model> snapshot = new ArrayList<>();
    synchronized (lock) {
      assert LockOrder.taken(lock);
      for (Model m : models.values()) {
        snapshot.add(m.copy());
        ready.add(m.state == State.READY ? m.engine : null);
      }
    }
    for (int i = 0; i < snapshot.size(); i++) {
      Model m = snapshot.get(i);
      EngineStats stats = null;
      if (ready.get(i) != null) {
        try {
          stats = ready.get(i).stats();
        } catch (FoleyException e) {
          stats = null; // closed since the snapshot
        }
      }
      out.add(new ModelInfo(m.name, m.state, m.bytes, m.inFlight, m.loads, m.unloads, m.failedLoads, m.lastUsed,
          m.lastError, stats));
    }
    return out;
  }

  /** The budget's bytes that loaded, loading and closing models take now. */
  public long bytesInUse() {
    synchronized (lock) {
      assert LockOrder.taken(lock);
      return used();
    }
  }

  /** Closes every loaded model's engine and bundle (their engines finish or cancel their jobs as {@link FoleyEngine#close} does). */
  @Override
  public void close() {
    List<Model> toClose = new ArrayList<>();
    synchronized (lock) {
      assert LockOrder.taken(lock);
      if (closed) {
        return;
      }
      closed = true;
      for (Model m : models.values()) {
        if (m.state == State.READY) {
          m.state = State.UNLOADING;
          toClose.add(m);
        }
      }
      lock.notifyAll();
    }
    for (Model m : toClose) {
      unload(m, false);
    }
  }

  private Model model(String name) {
    Model m = name == null ? null : models.get(name);
    if (m == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "no model named '" + name + "': this engine"
          + " has " + String.join(", ", models.keySet()) + " (leave the model out for " + defaultModel + ")");
    }
    return m;
  }

  /** The model's engine with one more job counted in flight, loading it first if needed. */
  private FoleyEngine acquire(Model m) {
    long deadline = System.nanoTime() + loadWaitNanos;
    while (true) {
      CompletableFuture<Void> wait;
      boolean loadHere = false;
      synchronized (lock) {
        assert LockOrder.taken(lock);
        if (closed) {
          throw new FoleyException(FoleyException.Code.CLOSED, "the models are closed");
        }
        switch (m.state) {
          case READY -> {
            m.inFlight++;
            m.lastUsed = System.nanoTime();
            return m.engine;
          }
          case FAILED -> {
            if (System.nanoTime() - m.failedAt < retryFailedNanos) {
              throw m.failure(); // fail fast with the same error for a while
            }
            loadHere = true;
          }
          case UNLOADED -> loadHere = true;
          default -> { }
        }
        if (loadHere) {
          m.state = State.LOADING;
          m.loading = new CompletableFuture<>();
          m.loads++;
          wait = m.loading;
        } else {
          wait = m.state == State.LOADING ? m.loading : m.unloading;
        }
      }
      if (loadHere) {
        load(m, deadline);
      } else {
        awaitQuietly(wait, deadline, m);
      }
    }
  }

  private void release(Model m) {
    synchronized (lock) {
      assert LockOrder.taken(lock);
      m.inFlight--;
      m.lastUsed = System.nanoTime();
      lock.notifyAll(); // a load waiting for room may unload it now
    }
  }

  /** Loads {@code m} (its state is LOADING, set by this thread), making room first. */
  private void load(Model m, long deadline) {
    ModelBundle bundle = null;
    FoleyEngine engine = null;
    boolean reserved = false;
    try {
      bundle = UserCode.call("the bundle of model " + m.name, m.bundle);
      if (bundle == null) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the bundle supplier of model " + m.name
            + " returned null");
      }
      long bytes = m.fixedBytes > 0 ? m.fixedBytes : sizeOf(bundle.directory());
      if (bytes > budget) {
        throw new FoleyException(FoleyException.Code.REJECTED, String.format(Locale.ROOT, "model %s needs about"
            + " %.1f MiB, more than the whole memory budget of %.1f MiB: raise memoryBudgetBytes", m.name,
            bytes / 1048576.0, budget / 1048576.0));
      }
      makeRoom(m, bytes, deadline);
      reserved = true;
      FoleyEngine.Builder builder = FoleyEngine.builder().bundle(bundle);
      try {
        UserCode.call("the engine settings of model " + m.name, () -> {
          m.configure.accept(builder);
          common.accept(builder);
          return null;
        });
      } catch (IllegalStateException e) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the engine settings of model " + m.name
            + " are invalid: " + e.getMessage() + " (the bundle is set by FoleyModels.Builder.model)", e);
      }
      if (!builder.hasName()) {
        builder.name(m.name);
      }
      engine = builder.build();
      CompletableFuture<Void> done;
      synchronized (lock) {
        assert LockOrder.taken(lock);
        if (closed) {
          throw new FoleyException(FoleyException.Code.CLOSED, "the models were closed while " + m.name + " loaded");
        }
        m.engine = engine;
        m.openBundle = bundle;
        m.state = State.READY;
        m.lastError = null;
        done = m.loading;
        m.loading = null;
        lock.notifyAll();
      }
      done.complete(null);
    } catch (RuntimeException | Error e) {
      closeQuietly(engine, bundle);
      FoleyException f = e instanceof FoleyException fe ? fe : new FoleyException(FoleyException.Code.INVALID_BUNDLE,
          "model " + m.name + " failed to load: " + e, e);
      CompletableFuture<Void> done;
      synchronized (lock) {
        assert LockOrder.taken(lock);
        if (!reserved) {
          m.bytes = m.fixedBytes;
        }
        m.reserved = false;
        m.state = State.FAILED;
        m.failedLoads++;
        m.failedAt = System.nanoTime();
        m.lastError = f.getMessage();
        m.lastFailure = f;
        done = m.loading;
        m.loading = null;
        lock.notifyAll();
      }
      done.completeExceptionally(f);
      throw f;
    }
  }

  /**
   * Reserves {@code bytes} for {@code m}, unloading least recently used idle models until they fit;
   * waits (up to the deadline) while the models in the way have jobs in flight.
   */
  private void makeRoom(Model m, long bytes, long deadline) {
    while (true) {
      List<Model> victims = new ArrayList<>();
      synchronized (lock) {
        assert LockOrder.taken(lock);
        while (true) {
          if (closed) {
            throw new FoleyException(FoleyException.Code.CLOSED, "the models are closed");
          }
          long free = budget - used();
          if (free >= bytes) {
            m.bytes = bytes;
            m.reserved = true;
            return;
          }
          // least recently used first, among models loaded with nothing in flight
          List<Model> idle = new ArrayList<>();
          for (Model o : models.values()) {
            if (o != m && o.state == State.READY && o.inFlight == 0) {
              idle.add(o);
            }
          }
          idle.sort((a, b) -> Long.compare(a.lastUsed, b.lastUsed));
          long freeing = 0;
          for (Model o : models.values()) {
            if (o.state == State.UNLOADING) {
              freeing += o.bytes; // already closing: its bytes come back soon
            }
          }
          for (Model o : idle) {
            if (free + freeing >= bytes) {
              break;
            }
            o.state = State.UNLOADING;
            o.unloading = new CompletableFuture<>();
            o.unloads++;
            victims.add(o);
            freeing += o.bytes;
          }
          if (!victims.isEmpty()) {
            break; // close them outside the lock, then look again
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new FoleyException(FoleyException.Code.REJECTED, String.format(Locale.ROOT, "model %s needs about"
                + " %.1f MiB and the models in the way had jobs in flight for %d s: retry later, or raise"
                + " memoryBudgetBytes (%.1f MiB in use of %.1f)", m.name, bytes / 1048576.0,
                loadWaitNanos / 1_000_000_000L, used() / 1048576.0, budget / 1048576.0));
          }
          try {
            lock.wait(Math.max(1, left / 1_000_000));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted while model " + m.name
                + " waited for memory");
          }
        }
      }
      for (Model v : victims) {
        unload(v, true);
      }
    }
  }

  /** Closes a model whose state this thread set to UNLOADING. */
  private void unload(Model v, boolean toMakeRoom) {
    FoleyEngine engine;
    ModelBundle bundle;
    synchronized (lock) {
      assert LockOrder.taken(lock);
      engine = v.engine;
      bundle = v.openBundle;
    }
    closeQuietly(engine, bundle);
    CompletableFuture<Void> done;
    synchronized (lock) {
      assert LockOrder.taken(lock);
      v.engine = null;
      v.openBundle = null;
      v.reserved = false;
      v.state = State.UNLOADED;
      done = v.unloading;
      v.unloading = null;
      lock.notifyAll();
    }
    if (done != null) {
      done.complete(null);
    }
  }

  private long used() {
    long sum = 0;
    for (Model o : models.values()) {
      if (o.reserved) {
        sum += o.bytes;
      }
    }
    return sum;
  }

  private void awaitQuietly(CompletableFuture<Void> f, long deadline, Model m) {
    if (f == null) {
      return;
    }
    long left = deadline - System.nanoTime();
    try {
      f.get(Math.max(1, left), java.util.concurrent.TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted while model " + m.name + " loaded");
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof FoleyException fe) {
        throw new FoleyException(fe.code(), fe.getMessage(), fe);
      }
      throw new FoleyException(FoleyException.Code.INTERNAL, "model " + m.name + " failed to load: " + e.getCause(),
          e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new FoleyException(FoleyException.Code.REJECTED, "model " + m.name + " did not load within "
          + loadWaitNanos / 1_000_000_000L + " s: retry later");
    }
  }

  private static void closeQuietly(FoleyEngine engine, ModelBundle bundle) {
    if (engine != null) {
      try {
        engine.close();
      } catch (RuntimeException e) {
        System.getLogger("io.foley4j").log(System.Logger.Level.WARNING, "closing a model's engine failed", e);
      }
    }
    if (bundle != null) {
      try {
        bundle.close();
      } catch (RuntimeException e) {
        System.getLogger("io.foley4j").log(System.Logger.Level.WARNING, "closing a model's bundle failed", e);
      }
    }
  }

  /** The bytes of the regular files under a bundle's directory. */
  static long sizeOf(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    } catch (IOException | UncheckedIOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot measure the bundle at " + dir + ": " + e.getMessage(), e);
    }
  }

  /** One model's definition and state; every field after the first four is guarded by the lock. */
  private static final class Model {
    final String name;
    final Supplier<ModelBundle> bundle;
    final Consumer<FoleyEngine.Builder> configure;
    final long fixedBytes;
    State state = State.UNLOADED;
    FoleyEngine engine;
    ModelBundle openBundle;
    CompletableFuture<Void> loading;
    CompletableFuture<Void> unloading;
    boolean reserved;
    long bytes;
    int inFlight;
    long loads;
    long unloads;
    long failedLoads;
    long lastUsed;
    long failedAt;
    String lastError;
    FoleyException lastFailure;

    Model(String name, Supplier<ModelBundle> bundle, Consumer<FoleyEngine.Builder> configure, long fixedBytes) {
      this.name = name;
      this.bundle = bundle;
      this.configure = configure;
      this.fixedBytes = fixedBytes;
      this.bytes = fixedBytes;
    }

    FoleyException failure() {
      return new FoleyException(lastFailure.code(), "model " + name + " failed to load recently: " + lastError,
          lastFailure);
    }

    Model copy() {
      Model c = new Model(name, bundle, configure, fixedBytes);
      c.state = state;
      c.bytes = bytes;
      c.inFlight = inFlight;
      c.loads = loads;
      c.unloads = unloads;
      c.failedLoads = failedLoads;
      c.lastUsed = lastUsed;
      c.lastError = lastError;
      return c;
    }
  }

  /** Settings of a {@link FoleyModels}; at least one model. */
  public static final class Builder {
    private final List<Model> models = new ArrayList<>();
    private String defaultModel;
    private long budget = Long.MAX_VALUE;
    private Duration loadWait = Duration.ofMinutes(2);
    private Duration retryFailedLoadAfter = Duration.ofSeconds(30);
    private Consumer<FoleyEngine.Builder> common = b -> { };

    private Builder() {}

    /**
     * Settings applied to every model's engine after its own (a shared cache, a video reader, an
     * event listener); a setting that both set fails that model's load with {@code INVALID_ARGUMENT}.
     */
    public Builder commonSettings(Consumer<FoleyEngine.Builder> settings) {
      this.common = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /**
     * A model whose bundle is at {@code bundle} (a directory or archive, opened with {@link
     * ModelBundle#open(Path)} at each load and closed at unload); {@code settings} sets the rest of
     * its engine (backend, concurrency, caches...) on a builder that already has the bundle; the
     * engine is named after the model unless the settings name it.
     */
    public Builder model(String name, Path bundle, Consumer<FoleyEngine.Builder> settings) {
      Objects.requireNonNull(bundle, "bundle");
      return model(name, () -> ModelBundle.open(bundle), settings, 0);
    }

    /**
     * A model whose bundle comes from {@code bundle} at each load (FoleyModels closes it at unload),
     * counted as {@code bytes} in the budget (0: the bytes of the bundle's files).
     */
    public Builder model(String name, Supplier<ModelBundle> bundle, Consumer<FoleyEngine.Builder> settings,
        long bytes) {
      Objects.requireNonNull(bundle, "bundle");
      Objects.requireNonNull(settings, "settings");
      if (name == null || !name.matches("[A-Za-z0-9._-]{1,40}")) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "a model name is 1-40 letters, digits,"
            + " '.', '_' or '-'; got '" + name + "'");
      }
      if (bytes < 0) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "a model's bytes cannot be negative");
      }
      for (Model m : models) {
        if (m.name.equals(name)) {
          throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "two models are named '" + name + "'");
        }
      }
      models.add(new Model(name, bundle, settings, bytes));
      return this;
    }

    /** The model a request without a name goes to (default: the first one added). */
    public Builder defaultModel(String name) {
      this.defaultModel = name;
      return this;
    }

    /** Bytes the loaded models may take together (default: no limit, so no model is ever unloaded). */
    public Builder memoryBudgetBytes(long bytes) {
      if (bytes <= 0) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "memoryBudgetBytes must be positive");
      }
      this.budget = bytes;
      return this;
    }

    /** How long a submit may wait for its model to load or for room to free up (default 2 minutes). */
    public Builder loadWait(Duration wait) {
      if (wait == null || wait.isNegative() || wait.isZero()) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "loadWait must be positive");
      }
      this.loadWait = wait;
      return this;
    }

    /** How long after a failed load requests fail at once before another load is tried (default 30 s). */
    public Builder retryFailedLoadAfter(Duration after) {
      if (after == null || after.isNegative()) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "retryFailedLoadAfter cannot be negative");
      }
      this.retryFailedLoadAfter = after;
      return this;
    }

    /** Builds the set; nothing loads until a request (or {@link FoleyModels#load}) names a model. */
    public FoleyModels build() {
      if (models.isEmpty()) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "add at least one model");
      }
      if (defaultModel != null && models.stream().noneMatch(m -> m.name.equals(defaultModel))) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the default model '" + defaultModel
            + "' is not one of the models");
      }
      return new FoleyModels(this);
    }
  }
}
