package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The bytes of a stream shared by its reader thread and whoever waits for them. */
class GrowingBytesTest {
  private static final java.util.function.Supplier<FoleyException> TOO_LONG =
      () -> new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "too long");

  @Test
  void aReadWaitsForItsBytesThenTheEndGivesMinusOneAndTheDigest() throws Exception {
    GrowingBytes g = new GrowingBytes(100, true, () -> null);
    assertTrue(g.append(new byte[] {1, 2, 3}, 3, TOO_LONG));
    byte[] dst = new byte[10];
    assertEquals(3, g.read(0, dst, 0, 10));
    CountDownLatch waiting = new CountDownLatch(1);
    CompletableFuture<Integer> later = CompletableFuture.supplyAsync(() -> {
      waiting.countDown();
      return g.read(3, dst, 3, 7); // waits: nothing at 3 yet
    });
    assertTrue(waiting.await(10, TimeUnit.SECONDS));
    assertFalse(g.complete());
    g.append(new byte[] {4, 5}, 2, TOO_LONG);
    assertEquals(2, later.get(10, TimeUnit.SECONDS));
    assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, java.util.Arrays.copyOf(dst, 5));
    g.finish();
    assertEquals(-1, g.read(5, dst, 0, 1));
    ByteBuffer all = g.awaitAll();
    assertEquals(5, all.remaining());
    assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(new byte[] {1, 2, 3, 4, 5})),
        g.digest());
    assertEquals("video from memory (5 bytes)", g.describe());
  }

  @Test
  void overTheBoundEveryReaderGetsTheBoundsError() {
    GrowingBytes g = new GrowingBytes(4, false, () -> null);
    assertTrue(g.append(new byte[] {1, 2, 3}, 3, TOO_LONG));
    assertFalse(g.append(new byte[] {4, 5}, 2, TOO_LONG));
    FoleyException e = assertThrows(FoleyException.class, () -> g.read(0, new byte[4], 0, 4));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertSame(e, assertThrows(FoleyException.class, g::awaitAll), "the same failure for every reader");
  }

  @Test
  void aWaitingReaderGivesUpWithTheJobsStopReason() throws Exception {
    AtomicReference<FoleyException> stop = new AtomicReference<>();
    GrowingBytes g = new GrowingBytes(100, false, stop::get);
    CountDownLatch started = new CountDownLatch(1);
    CompletableFuture<Throwable> reader = CompletableFuture.supplyAsync(() -> {
      started.countDown();
      try {
        g.read(0, new byte[1], 0, 1);
        return null;
      } catch (FoleyException e) {
        return e;
      }
    });
    assertTrue(started.await(10, TimeUnit.SECONDS));
    FoleyException cancelled = new FoleyException(FoleyException.Code.CANCELLED, "cancelled");
    stop.set(cancelled);
    assertSame(cancelled, reader.get(10, TimeUnit.SECONDS));
    assertFalse(g.append(new byte[] {1}, 1, TOO_LONG), "nothing is appended after a failure");
    assertSame(cancelled, assertThrows(FoleyException.class, g::awaitAll));
  }

  @Test
  void releasedBytesAreGoneForLaterReaders() {
    GrowingBytes g = new GrowingBytes(100, false, () -> null);
    g.append(new byte[] {1, 2}, 2, TOO_LONG);
    g.release(new FoleyException(FoleyException.Code.CANCELLED, "the job ended"));
    assertEquals(FoleyException.Code.CANCELLED,
        assertThrows(FoleyException.class, () -> g.read(0, new byte[2], 0, 2)).code());
  }
}
