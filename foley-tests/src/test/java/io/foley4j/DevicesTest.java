package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.backend.StageSession;
import io.foley4j.bundle.Stage;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Placement on several devices: least loaded, capacity, memory budget, waiting order, refusals. */
class DevicesTest {
  private final List<DeviceScheduler> schedulers = new ArrayList<>();

  @AfterEach
  void closeSchedulers() {
    schedulers.forEach(DeviceScheduler::close);
  }

  private DeviceScheduler scheduler(String name) {
    DeviceScheduler s = new DeviceScheduler(name, new EnumMap<Stage, StageSession>(Stage.class),
        new BatchPolicy(8, 0, null), Ticker.system(), new CircuitBreaker(2, 1_000_000_000L, Ticker.system()));
    schedulers.add(s);
    return s;
  }

  private Devices.Device device(int i, long free, int capacity) {
    long budget = free < 0 ? -1 : (long) (free * Devices.MEMORY_FRACTION);
    return new Devices.Device(i, "fake:" + i, scheduler("d" + i), free, budget, capacity);
  }

  private static DeviceScheduler.Owner owner(int priority, long sequence) {
    return new DeviceScheduler.Owner() {
      @Override
      public int priority() {
        return priority;
      }

      @Override
      public long sequence() {
        return sequence;
      }

      @Override
      public FoleyException stopReason() {
        return null;
      }
    };
  }

  private static final Runnable LIVE = () -> {};

  @Test
  void segmentsGoToTheLeastLoadedDeviceAndSpreadEvenly() {
    Devices devices = new Devices(List.of(device(0, -1, Integer.MAX_VALUE), device(1, -1, Integer.MAX_VALUE),
        device(2, -1, Integer.MAX_VALUE)));
    List<Devices.Lease> leases = new ArrayList<>();
    for (int k = 0; k < 6; k++) {
      leases.add(devices.acquire(owner(1, 1), k, 100, LIVE));
    }
    int[] per = new int[3];
    for (Devices.Lease l : leases) {
      per[l.device.index]++;
    }
    assertEquals(List.of(2, 2, 2), List.of(per[0], per[1], per[2]), "six segments on three idle devices");
    // free two on device 1: the next segment goes there
    leases.stream().filter(l -> l.device.index == 1).limit(2).forEach(Devices.Lease::close);
    assertEquals(1, devices.acquire(owner(1, 2), 0, 100, LIVE).device.index);
    // a home counts as load too
    Devices.Home home = devices.home();
    assertEquals(1, home.device.index, "device 1 still has the fewest");
  }

  @Test
  void capacityFromTheMemoryBudgetBoundsSegmentsPerDevice() throws Exception {
    // device 0 holds two segments of 400 bytes in 0.9 × 1000; device 1 one in 0.9 × 500
    Devices devices = new Devices(List.of(device(0, 1000, Integer.MAX_VALUE), device(1, 500, Integer.MAX_VALUE)));
    Devices.Lease a = devices.acquire(owner(1, 1), 0, 400, LIVE);
    Devices.Lease b = devices.acquire(owner(1, 1), 1, 400, LIVE);
    Devices.Lease c = devices.acquire(owner(1, 1), 2, 400, LIVE);
    assertEquals(2, List.of(a, b, c).stream().filter(l -> l.device.index == 0).count());
    assertEquals(1, List.of(a, b, c).stream().filter(l -> l.device.index == 1).count());
    List<DeviceStats> stats = devices.stats(System.nanoTime());
    assertEquals(800, stats.get(0).memoryReservedBytes());
    assertEquals(900, stats.get(0).memoryBudgetBytes());
    assertEquals(1000, stats.get(0).freeMemoryAtBuildBytes());
    assertEquals(2, stats.get(0).segmentsInFlight());

    // a fourth waits until one ends, then takes its place
    CountDownLatch got = new CountDownLatch(1);
    List<Devices.Lease> fourth = new CopyOnWriteArrayList<>();
    Thread t = new Thread(() -> {
      fourth.add(devices.acquire(owner(1, 1), 3, 400, LIVE));
      got.countDown();
    });
    t.start();
    TestSupport.awaitCondition("the fourth segment waiting", () -> devices.waiting() == 1);
    assertFalse(got.await(100, TimeUnit.MILLISECONDS), "no device has room");
    c.close();
    assertTrue(got.await(10, TimeUnit.SECONDS));
    assertEquals(c.device.index, fourth.get(0).device.index);
    t.join();
    c.close(); // idempotent: the device's count is not taken twice
    assertEquals(3, devices.stats(System.nanoTime()).stream().mapToInt(DeviceStats::segmentsInFlight).sum());
  }

  @Test
  void anExplicitCapacityBoundsADeviceWithoutMemory() {
    Devices devices = new Devices(List.of(device(0, -1, 1), device(1, -1, 3)));
    int[] per = new int[2];
    for (int k = 0; k < 4; k++) {
      per[devices.acquire(owner(1, 1), k, 1L << 40, LIVE).device.index]++;
    }
    assertEquals(1, per[0]);
    assertEquals(3, per[1]);
    assertEquals(1, devices.stats(System.nanoTime()).get(0).capacity());
  }

  @Test
  void waitingSegmentsAreServedMostUrgentFirst() throws Exception {
    Devices devices = new Devices(List.of(device(0, -1, 1)));
    Devices.Lease busy = devices.acquire(owner(1, 1), 0, 1, LIVE);
    List<String> order = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    // arrive as: job 3 segment 0 (normal), job 2 segment 5, job 2 segment 1, job 9 (high priority)
    long[][] who = {{1, 3, 0}, {1, 2, 5}, {1, 2, 1}, {0, 9, 0}};
    for (long[] w : who) {
      Thread t = new Thread(() -> {
        try (Devices.Lease l = devices.acquire(owner((int) w[0], w[1]), (int) w[2], 1, LIVE)) {
          order.add(w[1] + "/" + w[2]);
        }
      });
      threads.add(t);
      t.start();
      int n = threads.size();
      TestSupport.awaitCondition("waiter " + n, () -> devices.waiting() == n);
    }
    busy.close();
    for (Thread t : threads) {
      t.join(10_000);
    }
    assertEquals(List.of("9/0", "2/1", "2/5", "3/0"), order);
  }

  @Test
  void aWaitingSegmentGivesUpWhenItsJobStops() throws Exception {
    Devices devices = new Devices(List.of(device(0, -1, 1)));
    Devices.Lease busy = devices.acquire(owner(1, 1), 0, 1, LIVE);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    List<Throwable> thrown = new CopyOnWriteArrayList<>();
    Thread t = new Thread(() -> {
      try {
        devices.acquire(owner(1, 2), 0, 1, () -> {
          if (stop.get()) {
            throw new RequestRun.StopJob();
          }
        });
      } catch (Throwable e) {
        thrown.add(e);
      }
    });
    t.start();
    TestSupport.awaitCondition("waiting", () -> devices.waiting() == 1);
    stop.set(true);
    t.join(10_000);
    assertTrue(thrown.get(0) instanceof RequestRun.StopJob);
    assertEquals(0, devices.waiting(), "it left the line");
    busy.close();
    assertEquals(0, devices.acquire(owner(1, 3), 0, 1, LIVE).device.index, "the device is free again");
  }

  @Test
  void aSegmentThatFitsNoDeviceIsRefusedWithTheNumbers() {
    Devices devices = new Devices(List.of(device(0, 100L << 20, Integer.MAX_VALUE), device(1, 50L << 20, Integer.MAX_VALUE)));
    FoleyException e = assertThrows(FoleyException.class, () -> devices.checkFits(7, 200L << 20));
    assertEquals(FoleyException.Code.REJECTED, e.code());
    String m = e.getMessage();
    assertTrue(m.contains("request 7 needs about 200.0 MiB"), m);
    assertTrue(m.contains("fake:0: 100.0 MiB free after loading, budget 90.0 MiB"), m);
    assertTrue(m.contains("fake:1: 50.0 MiB free after loading, budget 45.0 MiB"), m);
    assertTrue(m.contains("never be admitted"), m);
    devices.checkFits(8, 90L << 20); // fits device 0
    Devices cpu = new Devices(List.of(device(0, -1, Integer.MAX_VALUE)));
    cpu.checkFits(9, Long.MAX_VALUE / 2); // no memory reported: no device limit
  }

  @Test
  void deviceUtilizationIsWallTimeEvenWithAFakeTicker() throws Exception {
    java.util.concurrent.atomic.AtomicLong fake = new java.util.concurrent.atomic.AtomicLong(); // stays at 0
    java.nio.file.Path clip = java.nio.file.Files.createTempFile("devices-util", ".mp4");
    try (io.foley4j.bundle.ModelBundle bundle = TestSupport.referenceBundle();
        FoleyEngine e = FoleyEngine.builder().bundle(bundle).ticker(fake::get).build()) {
      SyntheticMp4.write(io.foley4j.video.SyntheticVideo.builder().size(64, 48).durationSeconds(1).build(), clip);
      e.generate(FoleyRequest.builder(clip).prompt("x").steps(8).build());
      double u = e.stats().devices().get(0).utilization();
      assertTrue(u > 0.01 && u <= 1, "busy time over the wall time since build: " + u);
    } finally {
      java.nio.file.Files.deleteIfExists(clip);
    }
  }

  @Test
  void aDeviceWithAnOpenBreakerGetsNoNewWorkWhileAnotherCan() {
    Devices.Device sick = device(0, -1, Integer.MAX_VALUE);
    Devices.Device well = device(1, -1, Integer.MAX_VALUE);
    Devices devices = new Devices(List.of(sick, well));
    sick.scheduler.breaker().onFailure();
    sick.scheduler.breaker().onFailure(); // threshold 2: open
    assertTrue(sick.scheduler.breaker().isRejecting());
    for (int k = 0; k < 3; k++) {
      assertSame(well, devices.acquire(owner(1, 1), k, 1, LIVE).device);
    }
    assertSame(well, devices.home().device);
    assertNotSame(sick, devices.home().device);
  }
}
