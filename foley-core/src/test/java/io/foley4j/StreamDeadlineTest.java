package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A video from a stream obeys its job's deadline and cancellation while its bytes are read: an
 * endless slow stream, or a channel that keeps returning 0 bytes, neither holds the engine's
 * request thread nor burns a core. The stream never ends, so no decoder is reached.
 */
class StreamDeadlineTest extends SmallBundleTest {
  private static FoleyEngine engine() {
    return FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(1)
        .videoSources(io.foley4j.video.SyntheticVideo.builder().build().asFactory()).build();
  }

  /** One byte every 10 ms, forever. */
  private static final class SlowEndless extends InputStream {
    final AtomicLong reads = new AtomicLong();

    @Override
    public int read() {
      pause();
      reads.incrementAndGet();
      return 0;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      pause();
      reads.incrementAndGet();
      b[off] = 0;
      return 1;
    }

    private static void pause() {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A non-blocking channel that never has data: returns 0 at once, counting its calls and the threads that call it. */
  private static final class EmptyNonBlocking implements ReadableByteChannel {
    final AtomicLong reads = new AtomicLong();
    final AtomicLong readerThread = new AtomicLong(-1);
    final AtomicBoolean open = new AtomicBoolean(true);

    @Override
    public int read(ByteBuffer dst) {
      readerThread.set(Thread.currentThread().getId());
      reads.incrementAndGet();
      return 0;
    }

    @Override
    public boolean isOpen() {
      return open.get();
    }

    @Override
    public void close() {
      open.set(false);
    }
  }

  private static FoleyException failure(FoleyJob job, long seconds) throws Exception {
    try {
      job.result().get(seconds, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return (FoleyException) e.getCause();
    } catch (CompletionException e) {
      return (FoleyException) e.getCause();
    }
    throw new AssertionError("job " + job.id() + " did not fail");
  }

  /** Another job needs the engine's only request thread: it runs only once the stream's job let it go. */
  private static void assertRequestThreadFree(FoleyEngine e) throws Exception {
    FoleyJob next = e.submit(FoleyRequest.builder(new byte[] {1, 2, 3}).prompt("x").steps(1).build(),
        FoleyListener.NONE);
    try {
      next.result().get(20, TimeUnit.SECONDS); // the synthetic source serves its own frames: it completes
    } catch (java.util.concurrent.ExecutionException ex) {
      FoleyException f = (FoleyException) ex.getCause();
      assertTrue(f.code() != FoleyException.Code.DEADLINE_EXCEEDED && f.code() != FoleyException.Code.CANCELLED,
          "the next job ran (and was refused for its own reason): " + f);
    }
  }

  @Test
  void anEndlessSlowStreamFailsAtItsDeadlineAndFreesTheRequestThread() throws Exception {
    try (FoleyEngine e = engine()) {
      SlowEndless in = new SlowEndless();
      long t0 = System.nanoTime();
      FoleyJob job = e.submit(FoleyRequest.builder(in).prompt("x").deadline(Duration.ofSeconds(2)).build(),
          FoleyListener.NONE);
      FoleyException f = failure(job, 20);
      double s = (System.nanoTime() - t0) / 1e9;
      assertEquals(FoleyException.Code.DEADLINE_EXCEEDED, f.code(), f.toString());
      assertTrue(s < 10, "stopped promptly after its 2 s deadline: " + s + " s");
      assertTrue(in.reads.get() > 10, "the stream was being read: " + in.reads.get());
      assertRequestThreadFree(e);
      long after = in.reads.get();
      Thread.sleep(300);
      assertTrue(in.reads.get() - after <= 1, "nothing reads the stream any more: " + after + " -> " + in.reads.get());
    }
  }

  /** A stream whose first read blocks until {@code release}, deaf to interrupts and to close. */
  private static final class BlockedForever extends InputStream {
    final java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    volatile String readerName;

    @Override
    public int read() {
      readerName = Thread.currentThread().getName();
      entered.countDown();
      while (true) {
        try {
          release.await();
          return -1;
        } catch (InterruptedException ignored) {
          // a read that cannot be interrupted, as many sockets' are not
        }
      }
    }

    @Override
    public int read(byte[] b, int off, int len) {
      return read();
    }
  }

  @Test
  void cancelFreesTheRequestThreadEvenFromAReadThatNeverReturns() throws Exception {
    BlockedForever in = new BlockedForever();
    try (FoleyEngine e = engine()) {
      FoleyJob job = e.submit(FoleyRequest.builder(in).prompt("x").build(), FoleyListener.NONE);
      assertTrue(in.entered.await(20, TimeUnit.SECONDS), "the read started");
      long t0 = System.nanoTime();
      assertTrue(job.cancel());
      assertRequestThreadFree(e);
      double s = (System.nanoTime() - t0) / 1e9;
      assertTrue(s < 10, "the request thread was free soon after cancel: " + s + " s");
      assertTrue(in.readerName.contains("-stream-") && !in.readerName.contains("-request-"),
          "the blocked read is on the stream's own reader thread: " + in.readerName);
      assertTrue(job.isCancelled());
    } finally {
      in.release.countDown(); // the abandoned reader thread ends once its read returns
    }
  }

  @Test
  void aDeadlineStopsAJobWhoseReadNeverReturns() throws Exception {
    BlockedForever in = new BlockedForever();
    try (FoleyEngine e = engine()) {
      long t0 = System.nanoTime();
      FoleyJob job = e.submit(FoleyRequest.builder(in).prompt("x").deadline(Duration.ofSeconds(1)).build(),
          FoleyListener.NONE);
      FoleyException f = failure(job, 20);
      assertEquals(FoleyException.Code.DEADLINE_EXCEEDED, f.code(), f.toString());
      assertTrue((System.nanoTime() - t0) / 1e9 < 10, "promptly");
      assertRequestThreadFree(e);
    } finally {
      in.release.countDown();
    }
  }

  @Test
  void aChannelThatReturnsZeroDoesNotSpinAndObeysTheDeadline() throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    try (FoleyEngine e = engine()) {
      EmptyNonBlocking ch = new EmptyNonBlocking();
      long t0 = System.nanoTime();
      FoleyJob job = e.submit(FoleyRequest.builder(ch).prompt("x").deadline(Duration.ofSeconds(2)).build(),
          FoleyListener.NONE);
      TestSupport.awaitCondition("the channel is being read", () -> ch.reads.get() > 0);
      long reader = ch.readerThread.get();
      long cpu0 = mx.getThreadCpuTime(reader);
      Thread.sleep(1000);
      long cpu1 = mx.getThreadCpuTime(reader);
      FoleyException f = failure(job, 20);
      double s = (System.nanoTime() - t0) / 1e9;
      assertEquals(FoleyException.Code.DEADLINE_EXCEEDED, f.code(), f.toString());
      assertTrue(s < 10, "stopped promptly after its 2 s deadline: " + s + " s");
      if (cpu0 >= 0 && cpu1 >= 0) { // -1 once the thread ended, or where CPU time is not measured
        assertTrue(cpu1 - cpu0 < 300_000_000L, "the reader used " + (cpu1 - cpu0) / 1e6 + " ms of CPU in 1 s");
      }
      assertTrue(ch.reads.get() < 2000, "backed off between reads: " + ch.reads.get() + " reads in about 2 s");
      TestSupport.awaitCondition("the channel is closed", () -> !ch.isOpen());
      assertRequestThreadFree(e);
    }
  }
}
