package io.foley4j;

import java.util.Arrays;

/**
 * When to run a batch, with the meaning of Triton's dynamic batcher: at most {@code maxBatchSize}
 * work items per backend call; a batch below that size waits at most {@code maxQueueDelayNanos} for
 * more items unless every party that could add one already has, or a preferred size is reached.
 */
record BatchPolicy(int maxBatchSize, long maxQueueDelayNanos, int[] preferredSizes) {

  BatchPolicy {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, was " + maxBatchSize);
    }
    if (maxQueueDelayNanos < 0) {
      throw new IllegalArgumentException("maxQueueDelay must not be negative");
    }
    preferredSizes = preferredSizes == null ? new int[0] : preferredSizes.clone();
    Arrays.sort(preferredSizes);
    for (int s : preferredSizes) {
      if (s < 1 || s > maxBatchSize) {
        throw new IllegalArgumentException("preferred batch size " + s + " must be between 1 and maxBatchSize "
            + maxBatchSize);
      }
    }
  }

  /**
   * Every number of items a call can have: 1 to {@code maxBatchSize} (a batch runs with whatever
   * is queued once nobody else can join or the delay passed, so any size can occur).
   */
  int[] buckets() {
    int[] b = new int[maxBatchSize];
    for (int i = 0; i < b.length; i++) {
      b[i] = i + 1;
    }
    return b;
  }

  /** Run one item at a time, never wait: what "unbatched" means in benchmarks. */
  static BatchPolicy unbatched() {
    return new BatchPolicy(1, 0, null);
  }

  /**
   * How many queued items to run now, or 0 to keep waiting.
   *
   * @param queued items waiting for this stage
   * @param parties how many callers could currently add an item (each waits for its own)
   * @param headAgeNanos how long the oldest waiting item has waited
   */
  int decide(int queued, int parties, long headAgeNanos) {
    if (queued <= 0) {
      return 0;
    }
    if (queued >= maxBatchSize) {
      return maxBatchSize;
    }
    if (queued >= Math.max(1, parties)) {
      return queued; // nobody else can join: waiting would only add latency
    }
    for (int s : preferredSizes) {
      if (s == queued) {
        return queued; // a preferred size is ready
      }
    }
    if (headAgeNanos >= maxQueueDelayNanos) {
      return queued; // waited long enough: run what is there
    }
    return 0;
  }
}
