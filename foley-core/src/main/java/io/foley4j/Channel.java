package io.foley4j;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A bounded, typed hand-over between two stages of one job's pipeline: the producer puts items,
 * then {@link #end()} or {@link #fail}; the consumer takes them in order. Either side gives up as
 * soon as the job stops (nobody wants its result any more), so neither can block forever on the
 * other.
 */
final class Channel<T> {
  private sealed interface Message<T> permits Item, End, Failed {}

  private record Item<T>(T value) implements Message<T> {}

  private record End<T>() implements Message<T> {}

  private record Failed<T>(RuntimeException error) implements Message<T> {}

  private static final long POLL_MILLIS = 50;

  private final BlockingQueue<Message<T>> queue;
  private final BooleanSupplier stopped;

  Channel(int capacity, BooleanSupplier stopped) {
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.stopped = stopped;
  }

  /** Hands over an item; false if the job stopped first (the item is dropped). */
  boolean put(T value) {
    return offer(new Item<>(value), false);
  }

  /** No more items follow. */
  void end() {
    offer(new End<>(), true);
  }

  /** The producer failed; the consumer's next {@link #take()} throws {@code error}. */
  void fail(RuntimeException error) {
    offer(new Failed<>(error), true);
  }

  /**
   * The next item, or null when the producer ended or the job stopped.
   *
   * @throws RuntimeException what the producer failed with
   */
  T take() {
    return take(() -> {});
  }

  /**
   * Like {@link #take()}, running {@code whileWaiting} at each poll interval without an item (it
   * may throw to stop waiting, e.g. when a deadline passed or the engine is closing).
   */
  T take(Runnable whileWaiting) {
    try {
      while (true) {
        Message<T> m = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
        if (m instanceof Item<T> item) {
          return item.value();
        } else if (m instanceof Failed<T> failed) {
          throw failed.error();
        } else if (m instanceof End<T>) {
          return null;
        }
        whileWaiting.run();
        if (stopped.getAsBoolean()) {
          return null;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted while waiting for the previous stage", e);
    }
  }

  /** Whether {@link #take()} would return at once (an item, the end or a failure is waiting). */
  boolean ready() {
    return !queue.isEmpty();
  }

  /**
   * Takes every item queued now, without waiting (an end or failure among them is dropped), which
   * also unblocks a producer waiting on a full channel.
   */
  java.util.List<T> drain() {
    java.util.List<T> items = new java.util.ArrayList<>();
    for (Message<T> m; (m = queue.poll()) != null; ) {
      if (m instanceof Item<T> item) {
        items.add(item.value());
      }
    }
    return items;
  }


  /**
   * Queues {@code m} unless the job stops first. An item gives up on an interrupt; the end of the
   * stream ({@code throughInterrupts}) does not, or the consumer would wait on for it.
   */
  private boolean offer(Message<T> m, boolean throughInterrupts) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          while (!queue.offer(m, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
            if (stopped.getAsBoolean()) {
              return false;
            }
          }
          return true;
        } catch (InterruptedException e) {
          interrupted = true;
          if (!throughInterrupts) {
            return false;
          }
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

}
