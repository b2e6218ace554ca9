package io.foley4j.video;

import io.foley4j.FoleyException;
import java.util.function.LongSupplier;

/**
 * Where the time of {@link DecodedFrame#toTensor} goes, counted on one thread while a benchmark
 * asks for it ({@code foley bench frames}): the RGB conversion ({@link DecodedFrame#toRgb} of a
 * frame with the decoder's own conversion), the resize per {@link ResizeFilter}, and the
 * normalisation to floats. For measurements only: nothing is counted unless {@link #start} was
 * called on the thread that converts, and then each conversion reads {@code clock} four times (a
 * per-thread CPU clock, say). Without it a conversion pays one {@link ThreadLocal} read.
 *
 * <p>With foley4j's own RGB (a frame without the decoder's conversion, e.g. jcodec's) the rows
 * are converted inside the resize, and count there; {@link ResizeFilter#BILINEAR_2TAP} converts,
 * resizes and normalises in one pass, all counted as its resize.
 */
public final class FrameStages {
  private static final ThreadLocal<FrameStages> ACTIVE = new ThreadLocal<>();

  private final LongSupplier clock;
  private final Thread owner;
  private long rgbNanos;
  private int rgbFrames;
  private final long[] resizeNanos = new long[ResizeFilter.values().length];
  private final int[] resizeFrames = new int[ResizeFilter.values().length];
  private long normaliseNanos;

  private FrameStages(LongSupplier clock) {
    this.clock = clock;
    this.owner = Thread.currentThread();
  }

  /**
   * Starts counting the conversions of the calling thread with {@code clock} (nanoseconds), until
   * {@link #stop()}.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code clock} is null, or if this thread is
   *     already counting
   */
  public static FrameStages start(LongSupplier clock) {
    if (clock == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "FrameStages needs a clock");
    }
    if (ACTIVE.get() != null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "this thread is already counting frame stages");
    }
    FrameStages s = new FrameStages(clock);
    ACTIVE.set(s);
    return s;
  }

  /** Stops counting (idempotent); the totals stay readable. */
  public void stop() {
    if (Thread.currentThread() == owner && ACTIVE.get() == this) {
      ACTIVE.remove();
    }
  }

  /** The counter of the calling thread, or null (the common case: nobody is measuring). */
  static FrameStages active() {
    return ACTIVE.get();
  }

  long now() {
    return clock.getAsLong();
  }

  void addRgb(long nanos) {
    rgbNanos += nanos;
    rgbFrames++;
  }

  void addResize(ResizeFilter filter, long nanos) {
    resizeNanos[filter.ordinal()] += nanos;
    resizeFrames[filter.ordinal()]++;
  }

  void addNormalise(long nanos) {
    normaliseNanos += nanos;
  }

  /** Clock nanoseconds spent converting frames to 8-bit RGB with the decoder's conversion. */
  public long rgbNanos() {
    return rgbNanos;
  }

  /** Frames converted to RGB with the decoder's conversion. */
  public int rgbFrames() {
    return rgbFrames;
  }

  /** Clock nanoseconds spent resizing with {@code filter} (see the class comment for what it includes). */
  public long resizeNanos(ResizeFilter filter) {
    return resizeNanos[filter.ordinal()];
  }

  /** Frames resized with {@code filter}. */
  public int resizeFrames(ResizeFilter filter) {
    return resizeFrames[filter.ordinal()];
  }

  /** Clock nanoseconds spent turning resized 8-bit pictures into normalised floats. */
  public long normaliseNanos() {
    return normaliseNanos;
  }

  /**
   * How this JVM runs the antialiased resizes: with the Vector API (when started with {@code
   * --add-modules jdk.incubator.vector} on hardware with 8 or more {@code int} lanes; the same
   * bytes, faster) or scalar.
   */
  public static String resizePath() {
    return PilResample.resizePath();
  }
}
