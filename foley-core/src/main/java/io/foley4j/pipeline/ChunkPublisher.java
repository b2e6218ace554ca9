package io.foley4j.pipeline;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A job's chunks as a {@link Flow.Publisher}: every subscriber gets all chunks from the first (the
 * ones already emitted are replayed), in order and as demanded, then {@code onComplete} or
 * {@code onError} with the job's {@link FoleyException}. Chunks are final and immutable, so
 * keeping them for late subscribers costs no copies.
 */
final class ChunkPublisher implements Flow.Publisher<AudioChunk> {
  private final List<AudioChunk> chunks = new CopyOnWriteArrayList<>();
  private final List<Sub> subs = new CopyOnWriteArrayList<>();
  private volatile boolean done;
  private volatile FoleyException error;

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
    java.util.Objects.requireNonNull(subscriber, "subscriber");
    Sub s = new Sub(subscriber);
    subs.add(s);
    subscriber.onSubscribe(s);
    s.drain();
  }

  private final class Sub implements Flow.Subscription {
    private final Flow.Subscriber<? super AudioChunk> subscriber;
    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private int next;
    private volatile boolean cancelled;
    private boolean terminated;
    private Throwable badRequest;

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
      if (wip.getAndIncrement() != 0) {
        return;
      }
      int missed = 1;
      do {
        if (!cancelled && !terminated) {
          if (badRequest != null) {
            finish(() -> subscriber.onError(badRequest));
          } else {
            while (demand.get() > 0 && next < chunks.size() && !cancelled) {
              AudioChunk c = chunks.get(next++);
              demand.decrementAndGet();
              subscriber.onNext(c);
            }
            if (done && next >= chunks.size() && !cancelled) {
              FoleyException e = error;
              finish(() -> {
                if (e != null) {
                  subscriber.onError(e);
                } else {
                  subscriber.onComplete();
                }
              });
            }
          }
        }
        missed = wip.addAndGet(-missed);
      } while (missed != 0);
    }

    private void finish(Runnable signal) {
      terminated = true;
      subs.remove(this);
      signal.run();
    }
  }
}
