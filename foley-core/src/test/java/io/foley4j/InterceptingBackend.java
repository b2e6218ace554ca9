package io.foley4j;

import io.foley4j.backend.Backend;
import io.foley4j.backend.Backends;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiPredicate;

/** The CPU backend with test hooks: hold the device, inject failures and NaNs per call. */
public final class InterceptingBackend implements Backend {
  private final Backend delegate = Backends.cpu();
  /** While armed, the next backend call blocks until {@link #release()}. */
  private final AtomicBoolean holdNext = new AtomicBoolean();
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private final CountDownLatch held = new CountDownLatch(1);
  volatile BiPredicate<Stage, Map<String, Tensor>> fail = (s, in) -> false;
  volatile BiPredicate<Stage, Map<String, Tensor>> nan = (s, in) -> false;
  /** Sees every call's inputs and outputs (on the device thread). */
  volatile java.util.function.BiConsumer<Map<String, Tensor>, Map<String, Tensor>> observe = (in, out) -> {};
  /** Sessions opened and closed (each close counted once). */
  final java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
  final java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
  private volatile boolean releaseOnTerminate;

  /** The next call (on the device thread) will wait until {@link #release()}. */
  public void holdNextCall() {
    gate = new CountDownLatch(1);
    holdNext.set(true);
  }

  /** Waits until a held call has arrived. */
  public void awaitHeld() throws InterruptedException {
    if (!held.await(60, TimeUnit.SECONDS)) {
      throw new AssertionError("no call arrived at the gate");
    }
  }

  public void release() {
    gate.countDown();
  }

  /** Like {@link #holdNextCall()}, but the held call is released when the engine terminates it. */
  public void holdNextCallUntilTerminated() {
    releaseOnTerminate = true;
    holdNextCall();
  }

  @Override
  public String name() {
    return "intercepting-cpu";
  }

  @Override
  public StageSession open(StageSpec spec, Path modelFile) {
    StageSession s = delegate.open(spec, modelFile);
    opened.incrementAndGet();
    java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
    return new StageSession() {
      @Override
      public StageSpec spec() {
        return s.spec();
      }

      @Override
      public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        if (holdNext.compareAndSet(true, false)) {
          held.countDown();
          try {
            gate.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        if (fail.test(spec.stage(), inputs)) {
          throw new FoleyException(FoleyException.Code.BACKEND_FAILURE, "injected failure in " + spec.stage().key());
        }
        Map<String, Tensor> out = s.run(inputs);
        observe.accept(inputs, out);
        if (nan.test(spec.stage(), inputs)) {
          for (Tensor t : out.values()) {
            t.floats()[0] = Float.NaN;
          }
        }
        return out;
      }

      @Override
      public long runNanos() {
        return s.runNanos();
      }

      @Override
      public void terminateRunning() {
        if (releaseOnTerminate) {
          release();
        }
        s.terminateRunning();
      }

      @Override
      public void close() {
        if (once.compareAndSet(false, true)) {
          closed.incrementAndGet();
        }
        s.close();
      }
    };
  }
}
