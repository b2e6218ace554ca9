package io.foley4j;

import io.foley4j.bundle.BundleManifest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The engine's devices and where work goes on them (docs/scheduling.md, "Several devices").
 *
 * <p>Each device has its own copy of every stage behind its own {@link DeviceScheduler}, so a
 * device forms batches of the work placed on it only. Two kinds of placement:
 *
 * <ul>
 *   <li>A job's <b>home</b> ({@link #home}): the device that runs its text and encoder calls, the
 *       least loaded one when the job starts, kept for the whole job so its encoder items batch
 *       on one device.
 *   <li>A <b>segment lease</b> ({@link #acquire}): each segment's denoiser loop and VAE call run on
 *       the least-loaded device that has room for it: fewer segments in flight than its capacity
 *       and, when the device reported its free memory, the segment's estimated bytes within what
 *       is left of its budget. With no room anywhere the segment waits; waiting segments are served
 *       most urgent first (priority, job, earlier segment), so a job's segments start in order.
 * </ul>
 *
 * <p>A segment goes to the device with the fewest segments in flight per unit of capacity (1 for
 * a device without one); a home to the one with the fewest segments and homes per unit. Homes do
 * not count for segments: encoder work is a small part of a job (its denoiser runs steps ×
 * segments calls), and counting it would keep a job's segments off its own home. Ties go to the
 * device that was given fewer segments so far, then to the lower index. A device whose circuit
 * breaker is open gets no new work while another can take it.
 *
 * <p>Locking: one monitor guards the counters and the waiting line; nothing but arithmetic runs
 * under it. A waiting segment checks that its job still wants it outside the monitor (that may
 * fail the job and run its listener).
 */
final class Devices implements AutoCloseable {
  /** Fraction of a device's free memory at build that segments may use; the rest is headroom. */
  static final double MEMORY_FRACTION = 0.9;

  /** One device: its scheduler and the segments placed on it. */
  static final class Device {
    final int index;
    final String name;
    final DeviceScheduler scheduler;
    /** Free bytes the backend reported after this device's stages loaded and warmed up; -1 unknown. */
    final long freeAtBuild;
    /** Bytes segments may hold at once; -1 when the device reported no memory (then only capacity limits it). */
    final long budgetBytes;
    /** Most segments in flight at once; {@link Integer#MAX_VALUE} for no limit. */
    final int capacity;
    // guarded by the Devices monitor
    int inFlight;
    int homes;
    long reservedBytes;
    long segmentsPlaced;

    Device(int index, String name, DeviceScheduler scheduler, long freeAtBuild, long budgetBytes, int capacity) {
      this.index = index;
      this.name = name;
      this.scheduler = scheduler;
      this.freeAtBuild = freeAtBuild;
      this.budgetBytes = budgetBytes;
      this.capacity = capacity;
    }

    boolean fits(long bytes) {
      return inFlight < capacity && (budgetBytes < 0 || reservedBytes + bytes <= budgetBytes);
    }

    /** Whether a segment of {@code bytes} could ever run here (on an idle device). */
    boolean couldFit(long bytes) {
      return capacity > 0 && (budgetBytes < 0 || bytes <= budgetBytes);
    }

    /** Segments in flight per unit of capacity, plus homes when {@code withHomes}. */
    double load(boolean withHomes) {
      double weight = capacity == Integer.MAX_VALUE ? 1 : Math.max(1, capacity);
      return (inFlight + (withHomes ? homes : 0)) / weight;
    }
  }

  /** A segment placed on a device until {@link #close}; idempotent. */
  final class Lease implements AutoCloseable {
    final Device device;
    private final long bytes;
    private boolean released; // guarded by the Devices monitor

    private Lease(Device device, long bytes) {
      this.device = device;
      this.bytes = bytes;
    }

    DeviceScheduler scheduler() {
      return device.scheduler;
    }

    @Override
    public void close() {
      synchronized (monitor) {
        assert LockOrder.taken(monitor);
        if (released) {
          return;
        }
        released = true;
        device.inFlight--;
        device.reservedBytes -= bytes;
        monitor.notifyAll();
      }
    }
  }

  /** A job's home device until {@link #close}; idempotent. */
  final class Home implements AutoCloseable {
    final Device device;
    private boolean released; // guarded by the Devices monitor

    private Home(Device device) {
      this.device = device;
    }

    @Override
    public void close() {
      synchronized (monitor) {
        assert LockOrder.taken(monitor);
        if (!released) {
          released = true;
          device.homes--;
        }
      }
    }
  }

  private record Waiter(int priority, long job, int segment, long seq) {}

  /** {@link Urgency}, then arrival. */
  private static final Comparator<Waiter> URGENCY = Urgency.of(Waiter::priority, Waiter::job, Waiter::segment)
      .thenComparingLong(Waiter::seq);

  private final List<Device> devices;
  private final Object monitor = Monitor.placement("device placement");
  private final TreeSet<Waiter> waiting = new TreeSet<>(URGENCY); // guarded by monitor
  private long waiterSeq; // guarded by monitor

  Devices(List<Device> devices) {
    if (devices.isEmpty()) {
      throw new IllegalArgumentException("no devices");
    }
    this.devices = List.copyOf(devices);
  }

  List<Device> all() {
    return devices;
  }

  /** The least-loaded device that is not rejecting work, as the job's home for text and encoders. */
  Home home() {
    synchronized (monitor) {
      assert LockOrder.taken(monitor);
      Device best = null;
      for (Device d : devices) {
        if (better(d, best, true)) {
          best = d;
        }
      }
      best.homes++;
      return new Home(best);
    }
  }

  /** Whether {@code d} should be chosen over {@code best} (null: none yet); called under the monitor. */
  private boolean better(Device d, Device best, boolean withHomes) {
    if (best == null) {
      return true;
    }
    boolean dOpen = d.scheduler.breaker().isRejecting();
    boolean bOpen = best.scheduler.breaker().isRejecting();
    if (dOpen != bOpen) {
      return bOpen;
    }
    int c = Double.compare(d.load(withHomes), best.load(withHomes));
    if (c != 0) {
      return c < 0;
    }
    return d.segmentsPlaced < best.segmentsPlaced; // equal: the earlier index stays
  }

  /**
   * Refuses a job whose largest segment could never run on any device, with the numbers; call
   * before the job takes anything.
   */
  void checkFits(long jobId, long segmentBytes) {
    for (Device d : devices) {
      if (d.couldFit(segmentBytes)) {
        return;
      }
    }
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
        "request %d needs about %.1f MiB of device memory per segment in flight (an estimate from the bundle),"
            + " more than any device can hold:", jobId, mib(segmentBytes)));
    for (Device d : devices) {
      b.append(' ').append(d.name).append(": ");
      if (d.capacity == 0) {
        b.append("no segment fits (capacity 0)");
      } else {
        b.append(String.format(Locale.ROOT, "%.1f MiB free after loading, budget %.1f MiB", mib(d.freeAtBuild),
            mib(d.budgetBytes)));
      }
      b.append(';');
    }
    b.setLength(b.length() - 1);
    b.append(". It can never be admitted: send a shorter video, use a device with more memory, or set"
        + " segmentMemoryBytes if the estimate is too high");
    throw new FoleyException(FoleyException.Code.REJECTED, b.toString());
  }

  /**
   * Places segment {@code segment} of {@code owner}'s job on a device, waiting for room; while it
   * waits, {@code stillWanted} runs about every 50 ms outside every lock and may throw to give up.
   */
  Lease acquire(DeviceScheduler.Owner owner, int segment, long bytes, Runnable stillWanted) {
    Waiter me;
    synchronized (monitor) {
      assert LockOrder.taken(monitor);
      me = new Waiter(owner.priority(), owner.sequence(), segment, waiterSeq++);
      waiting.add(me);
    }
    boolean granted = false;
    try {
      while (true) {
        synchronized (monitor) {
          assert LockOrder.taken(monitor);
          Lease lease = tryPlace(me, bytes);
          if (lease != null) {
            granted = true;
            return lease;
          }
        }
        stillWanted.run();
        synchronized (monitor) {
          assert LockOrder.taken(monitor);
          if (!canPlace(me, bytes)) {
            try {
              monitor.wait(50);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted while waiting for a device", e);
            }
          }
        }
      }
    } finally {
      if (!granted) {
        synchronized (monitor) {
          assert LockOrder.taken(monitor);
          waiting.remove(me);
          monitor.notifyAll(); // the next waiter may be first in line now
        }
      }
    }
  }

  /** Under the monitor: a lease if {@code me} is first in line and some device has room. */
  private Lease tryPlace(Waiter me, long bytes) {
    if (!waiting.first().equals(me)) {
      return null;
    }
    Device best = null;
    for (Device d : devices) {
      if (d.fits(bytes) && better(d, best, false)) {
        best = d;
      }
    }
    if (best == null) {
      return null;
    }
    waiting.remove(me);
    best.inFlight++;
    best.reservedBytes += bytes;
    best.segmentsPlaced++;
    monitor.notifyAll(); // the next in line may fit too
    return new Lease(best, bytes);
  }

  private boolean canPlace(Waiter me, long bytes) {
    if (!waiting.first().equals(me)) {
      return false;
    }
    for (Device d : devices) {
      if (d.fits(bytes)) {
        return true;
      }
    }
    return false;
  }

  /** Segments waiting for a device now. */
  int waiting() {
    synchronized (monitor) {
      assert LockOrder.taken(monitor);
      return waiting.size();
    }
  }

  /** A snapshot of each device, for {@link EngineStats#devices()}. */
  List<DeviceStats> stats(long nowNanos) {
    List<long[]> counters = new ArrayList<>();
    synchronized (monitor) {
      assert LockOrder.taken(monitor);
      for (Device d : devices) {
        counters.add(new long[] {d.inFlight, d.homes, d.reservedBytes, d.segmentsPlaced});
      }
    }
    List<DeviceStats> out = new ArrayList<>();
    for (int i = 0; i < devices.size(); i++) {
      Device d = devices.get(i);
      long[] c = counters.get(i);
      long busy = 0;
      long calls = 0;
      int queued = 0;
      for (io.foley4j.bundle.Stage s : io.foley4j.bundle.Stage.values()) {
        busy += d.scheduler.busyNanos(s);
        calls += d.scheduler.calls(s);
      }
      for (int q : d.scheduler.queued().values()) {
        queued += q;
      }
      double wall = Math.max(1, nowNanos - d.scheduler.startedAt());
      out.add(new DeviceStats(d.index, d.name, (int) c[0], d.capacity == Integer.MAX_VALUE ? -1 : d.capacity,
          (int) c[1], c[3], queued, calls, busy, Math.min(1, busy / wall), c[2], d.budgetBytes, d.freeAtBuild,
          d.scheduler.breaker().state()));
    }
    return out;
  }

  /**
   * Device bytes one segment in flight holds ({@link SegmentMemory}) for {@code rows} denoiser rows
   * of one variant. With {@code perTrainedSegment} set (the builder's {@code segmentMemoryBytes}),
   * that figure scaled by the segment's latents over the trained segment's.
   */
  static long segmentBytes(BundleManifest m, SegmentPlan.Segment seg, int rows, long perTrainedSegment) {
    return SegmentMemory.bytes(m, seg, rows, 1, perTrainedSegment);
  }

  /**
   * A segment of a request's {@code settings}: all its variants' rows run as one item, so the
   * estimate counts {@link Sampler.Settings#denoiserRows()} rows, and a builder-given {@code
   * perTrainedSegment} (measured for one request of one variant) is charged once per variant.
   */
  static long segmentBytes(BundleManifest m, SegmentPlan.Segment seg, Sampler.Settings settings, long perTrainedSegment) {
    return SegmentMemory.bytes(m, seg, settings.denoiserRows(), settings.variants(), perTrainedSegment);
  }

  private static double mib(long bytes) {
    return bytes / 1048576.0;
  }

  /** Closes every device's scheduler (and so its sessions), each even if an earlier one throws. */
  @Override
  public void close() {
    RuntimeException first = null;
    for (Device d : devices) {
      try {
        d.scheduler.close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
