package io.foley4j;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A job's chunks as a {@link Flow.Publisher}: every subscriber gets all chunks from the first (the
 * ones already emitted are replayed), in order and as demanded, then {@code onComplete} or
 * {@code onError} with the job's {@link FoleyException}. Chunks are final and immutable, so
 * keeping them for late subscribers costs no copies.
 *
 * <p>Subscribers are user code and are guarded (Reactive Streams rule 2.13): one whose
 * {@code onNext} or {@code onSubscribe} throws has its subscription cancelled and gets
 * {@code onError} with a {@link FoleyException} (code INVALID_ARGUMENT) holding what it threw; the
 * job, other subscribers and the job's listener carry on. A throw from {@code onComplete} or
 * {@code onError} is logged. No foley4j lock is held while a subscriber is called.
 */
final class ChunkPublisher implements Flow.Publisher<AudioChunk> {
  private static final System.Logger LOG = System.getLogger("io.foley4j");

  private final String owner;
  private final List<AudioChunk> chunks = new CopyOnWriteArrayList<>();
  private final List<Sub> subs = new CopyOnWriteArrayList<>();
  private volatile boolean done;
  private volatile FoleyException error;

  ChunkPublisher(String owner) {
    this.owner = owner;
  }

  void emit(AudioChunk c) {
    chunks.add(c);
    subs.forEach(Sub::drain);
  }

  void complete() {
    done = true;
    subs.forEach(Sub::drain);
  }

  void fail(FoleyException e) {
    error = e;
    done = true;
    subs.forEach(Sub::drain);
  }

  @Override
  public void subscribe(Flow.Subscriber<? super AudioChunk> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber"); // rule 1.9
    Sub s = new Sub(subscriber);
    // Hold the subscription's drain while onSubscribe runs, so that no signal (not even a
    // terminal one from a job that ends now) reaches it before or during onSubscribe (rule 1.9,
    // 1.3); what arrived meanwhile is delivered right after.
    s.wip.set(1);
    subs.add(s);
    s.signal("onSubscribe", () -> subscriber.onSubscribe(s));
    s.drainLoop(1);
  }

  private final class Sub implements Flow.Subscription {
    private final Flow.Subscriber<? super AudioChunk> subscriber;
    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private int next;
    private volatile boolean cancelled;
    private boolean terminated;
    private volatile Throwable badRequest;
    private volatile Throwable threw; // what the subscriber threw from onSubscribe/onNext

    Sub(Flow.Subscriber<? super AudioChunk> subscriber) {
      this.subscriber = subscriber;
    }

    @Override
    public void request(long n) {
      if (n <= 0) {
        badRequest = new IllegalArgumentException("request(" + n + "): demand must be positive (rule 3.9)");
      } else {
        demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
      }
      drain();
    }

    @Override
    public void cancel() {
      cancelled = true;
      subs.remove(this);
    }

    /** Delivers what is due; one thread at a time, the others leave it a note (wip). */
    void drain() {
      if (wip.getAndIncrement() == 0) {
        drainLoop(1);
      }
    }

    /** The drain, entered by the thread that owns {@code wip} with {@code missed} to account for. */
    void drainLoop(int missed) {
      do {
        if (!cancelled && !terminated) {
          while (threw == null && badRequest == null && demand.get() > 0 && next < chunks.size() && !cancelled) {
            AudioChunk c = chunks.get(next++);
            demand.decrementAndGet();
            signal("onNext", () -> subscriber.onNext(c));
          }
          if (cancelled) {
            // the subscriber cancelled from inside onNext: nothing more is signalled (rule 3.6)
          } else if (threw != null) {
            Throwable t = threw;
            finish(() -> quietly("onError", () -> subscriber.onError(new FoleyException(
                FoleyException.Code.INVALID_ARGUMENT, "subscriber of " + owner + " threw " + t
                    + "; its subscription was cancelled (the job goes on)", t))));
          } else if (badRequest != null) {
            Throwable b = badRequest;
            finish(() -> quietly("onError", () -> subscriber.onError(b)));
          } else if (done && next >= chunks.size()) {
            FoleyException e = error;
            finish(() -> {
              if (e != null) {
                quietly("onError", () -> subscriber.onError(e));
              } else {
                quietly("onComplete", subscriber::onComplete);
              }
            });
          }
        }
        missed = wip.addAndGet(-missed);
      } while (missed != 0);
    }

    /** Calls onSubscribe/onNext; a throw cancels this subscription (reported by {@link #drain}). */
    void signal(String what, Runnable r) {
      assert UserCode.assertNoFoleyLockHeld("subscriber " + what + " of " + owner);
      try {
        r.run();
      } catch (Throwable e) {
        UserCode.rethrowIfLockRule(e);
        LOG.log(System.Logger.Level.WARNING, "subscriber " + what + " of " + owner
            + " threw; cancelling its subscription (rule 2.13)", e);
        threw = e;
      }
    }

    private void quietly(String what, Runnable r) {
      UserCode.run("subscriber " + what + " of " + owner, r);
    }

    private void finish(Runnable signal) {
      terminated = true;
      subs.remove(this);
      signal.run();
    }
  }
}
