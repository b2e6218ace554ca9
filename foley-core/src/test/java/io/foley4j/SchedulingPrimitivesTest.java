package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SchedulingPrimitivesTest {
  private static final long MS = 1_000_000;

  @Test
  void batchRunsAtOnceWhenFullOrWhenEveryPartyHasSubmitted() {
    BatchPolicy p = new BatchPolicy(8, 10 * MS, null);
    assertEquals(8, p.decide(12, 20, 0), "never more than maxBatchSize");
    assertEquals(8, p.decide(8, 20, 0));
    assertEquals(3, p.decide(3, 3, 0), "all three parties are in: no reason to wait");
    assertEquals(1, p.decide(1, 0, 0), "unregistered callers count as one party");
    assertEquals(0, p.decide(3, 5, 9 * MS), "two parties may still come: wait");
    assertEquals(3, p.decide(3, 5, 10 * MS), "but not longer than maxQueueDelay");
    assertEquals(0, p.decide(0, 5, 100 * MS));
  }

  @Test
  void preferredSizesRunAsSoonAsReached() {
    BatchPolicy p = new BatchPolicy(8, 10 * MS, new int[] {4, 2});
    assertEquals(2, p.decide(2, 6, 0));
    assertEquals(0, p.decide(3, 6, 0));
    assertEquals(4, p.decide(4, 6, 0));
    assertThrows(IllegalArgumentException.class, () -> new BatchPolicy(4, 0, new int[] {5}));
    assertThrows(IllegalArgumentException.class, () -> new BatchPolicy(0, 0, null));
    assertEquals(1, BatchPolicy.unbatched().decide(5, 5, 0));
  }

  @Test
  void breakerOpensAfterThresholdThenProbes() {
    AtomicLong now = new AtomicLong();
    CircuitBreaker b = new CircuitBreaker(3, 10 * MS, now::get);
    assertEquals(EngineStats.BreakerState.CLOSED, b.state());
    b.onFailure();
    b.onFailure();
    b.onSuccess(); // resets the count
    b.onFailure();
    b.onFailure();
    assertTrue(b.tryAcquire());
    b.onFailure();
    assertEquals(EngineStats.BreakerState.OPEN, b.state());
    assertFalse(b.tryAcquire());
    assertTrue(b.isRejecting());
    now.addAndGet(10 * MS);
    assertEquals(EngineStats.BreakerState.HALF_OPEN, b.state());
    assertTrue(b.tryAcquire(), "one probe");
    assertFalse(b.tryAcquire(), "only one probe at a time");
    b.onFailure();
    assertEquals(EngineStats.BreakerState.OPEN, b.state(), "a failed probe opens it again");
    now.addAndGet(10 * MS);
    assertTrue(b.tryAcquire());
    b.onSuccess();
    assertEquals(EngineStats.BreakerState.CLOSED, b.state());
    assertTrue(b.tryAcquire());
  }

  @Test
  void tokenBucketRefillsWithTime() {
    AtomicLong now = new AtomicLong();
    TokenBucket t = new TokenBucket(2.0, 3, now::get);
    assertTrue(t.tryTake());
    assertTrue(t.tryTake());
    assertTrue(t.tryTake());
    assertFalse(t.tryTake());
    assertEquals(500 * MS, t.nanosUntilToken(), MS);
    now.addAndGet(499 * MS);
    assertFalse(t.tryTake());
    now.addAndGet(2 * MS);
    assertTrue(t.tryTake());
    now.addAndGet(100_000 * MS);
    for (int i = 0; i < 3; i++) {
      assertTrue(t.tryTake(), "refills only up to the burst");
    }
    assertFalse(t.tryTake());
  }
}
