package io.foley4j;

import io.foley4j.backend.Backend;
import io.foley4j.backend.StageSession;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Opens the stages of a bundle at once, on a short-lived pool of {@code min(stages, cores)} threads
 * named {@code foley-<engine>-load-N}. Either every stage opens, or none stays open: a failure
 * closes every session that did open (including ones that finish opening later) and rethrows the
 * first failure as it was thrown; an interrupt of the calling thread does the same and throws
 * {@link FoleyException.Code#CANCELLED}. The pool is shut down on every path.
 */
final class StageLoader {
  private final Map<Stage, StageSession> opened = new EnumMap<>(Stage.class); // guarded by this
  private boolean abandoned; // guarded by this: sessions that open from now on are closed at once
  private Throwable firstFailure; // guarded by this

  private StageLoader() {}

  /**
   * Opens every stage of {@code bundle} with {@code backend}; {@code loadNanos} receives each
   * stage's open time.
   */
  static Map<Stage, StageSession> openAll(String engine, Backend backend, ModelBundle bundle,
      Map<Stage, Long> loadNanos) {
    return new StageLoader().run(engine, backend, bundle, loadNanos);
  }

  private Map<Stage, StageSession> run(String engine, Backend backend, ModelBundle bundle, Map<Stage, Long> loadNanos) {
    Stage[] stages = Stage.values();
    int threads = Math.max(1, Math.min(stages.length, Runtime.getRuntime().availableProcessors()));
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "foley-" + engine + "-load-" + n.getAndIncrement());
          t.setDaemon(true);
          return t;
        });
    Map<Stage, Long> times = new EnumMap<>(Stage.class);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (Stage s : stages) {
        futures.add(pool.submit(() -> load(backend, bundle, s, times)));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          // recorded by load(): close what opened, stop what has not started, and wait for the
          // stages still opening (they close themselves), so that nothing is open when build() fails
          Throwable first = abandon();
          pool.shutdownNow();
          awaitQuietly(pool);
          throw rethrow(first != null ? first : e.getCause());
        }
      }
      synchronized (this) {
        assert LockOrder.taken(this);
        loadNanos.putAll(times);
        return new EnumMap<>(opened);
      }
    } catch (InterruptedException e) {
      abandon(); // sessions still opening close themselves when they are done
      pool.shutdownNow();
      Thread.currentThread().interrupt();
      throw new FoleyException(FoleyException.Code.CANCELLED, "engine " + engine
          + ": build() was interrupted while loading its stages; every stage opened so far was closed", e);
    } finally {
      pool.shutdownNow();
    }
  }

  private void load(Backend backend, ModelBundle bundle, Stage s, Map<Stage, Long> times) {
    synchronized (this) {
      assert LockOrder.taken(this);
      if (abandoned) {
        return;
      }
    }
    long t0 = System.nanoTime();
    StageSession session;
    try {
      session = backend.open(bundle.manifest().stage(s), bundle.stageFile(s));
    } catch (RuntimeException | Error e) {
      synchronized (this) {
        assert LockOrder.taken(this);
        abandoned = true; // stages not started yet are skipped; ones still opening close themselves
        if (firstFailure == null) {
          firstFailure = e;
        } else if (firstFailure != e) {
          firstFailure.addSuppressed(e);
        }
      }
      throw e;
    }
    long took = System.nanoTime() - t0;
    boolean close;
    synchronized (this) {
      assert LockOrder.taken(this);
      close = abandoned;
      if (!close) {
        opened.put(s, session);
        times.put(s, took);
      }
    }
    if (close) {
      session.close();
    }
  }

  /** Marks the load abandoned and closes every session opened; returns the first failure, if any. */
  private Throwable abandon() {
    List<StageSession> toClose;
    Throwable first;
    synchronized (this) {
      assert LockOrder.taken(this);
      abandoned = true;
      toClose = new ArrayList<>(opened.values());
      opened.clear();
      first = firstFailure;
    }
    for (StageSession s : toClose) {
      try {
        s.close();
      } catch (RuntimeException e) {
        if (first != null) {
          first.addSuppressed(e);
        }
      }
    }
    return first;
  }

  private static void awaitQuietly(ExecutorService pool) {
    try {
      pool.awaitTermination(1, TimeUnit.DAYS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // stop waiting: the stages still opening close themselves
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new FoleyException(FoleyException.Code.INTERNAL, "loading a stage failed: " + t, t);
  }
}
