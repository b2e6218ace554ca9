package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageContract;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.ResizeMode;
import io.foley4j.video.VideoSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

/**
 * Turns one video into per-segment encoder features, as two pipelined tasks: a producer decodes
 * the video once, front to back, samples frames by timestamp on the visual and sync grids, packs
 * encoder batches and submits each to its encoder as soon as it is packed; an encoder task awaits
 * those calls in order and hands each segment's features to the job, in order. Decoding the next
 * frames thus overlaps the backend calls, and a batch reaches the device without waiting for the
 * encoder task.
 *
 * <p>Memory stays flat in the video's length: a few packed batches in flight, the sync frames that
 * unbuilt windows still need (about one window plus the segment overlap), and the features of
 * segments not yet handed over.
 */
final class FeatureExtractor {
  /** What the producer hands to the encoder task: a batch for one of the two encoders. */
  private sealed interface EncoderWork permits VisualBatch, WindowBatch {}

  /**
   * Visual pictures to encode (picture {@code pic[b]}, pixels in {@code data}, placed at frame
   * {@code local[b]} of segment {@code seg[b]}), then frames that show the same picture as an
   * earlier one and reuse its features ({@code dupSeg/dupLocal} copy picture {@code dupPic}): times
   * shared by overlapping segments, padding past the end, or a video slower than the sampling rate.
   */
  private record VisualBatch(float[] data, int n, int[] seg, int[] local, long[] pic, int[] dupSeg, int[] dupLocal,
      long[] dupPic) implements EncoderWork {}

  /** Sync window {@code window} of segment {@code segment}. */
  private record WindowRef(int segment, int window) {}

  /** A window of one still picture that reuses the tokens of an identical earlier window. */
  private record WindowCopy(WindowRef target, WindowRef source) {}

  /** Windows to encode ({@code uniform[i]}: window i shows one picture), then windows that copy. */
  private record WindowBatch(WindowRef[] windows, boolean[] uniform, float[] data, WindowCopy[] copies)
      implements EncoderWork {}

  /**
   * The next sampling time of one stream of one segment: frame {@code i} of {@code n}. With the
   * exact grid it is {@code (origin + i) / fps} on the global grid, or {@code start + i / fps} off
   * it; with the accumulated grid it starts at the global grid's accumulated time (or at
   * {@code start} off it) and advances by adding {@code 1/fps}, as the models' frame loops do.
   */
  private static final class Cursor {
    final boolean visual;
    final int segment;
    final int n;
    final double fps;
    final long origin; // grid index of frame 0, or -1 when the segment is off the global grid
    final double start;
    final boolean accumulated;
    double t; // the accumulated time of frame i
    int i;

    Cursor(boolean visual, SegmentPlan.Segment seg, int n, double fps, boolean accumulated, Accumulator acc) {
      this.visual = visual;
      this.segment = seg.index();
      this.n = n;
      this.fps = fps;
      double g = seg.startSeconds() * fps;
      long r = Math.round(g);
      this.origin = Math.abs(g - r) <= 1e-6 ? r : -1;
      this.start = seg.startSeconds();
      this.accumulated = accumulated;
      this.t = accumulated ? (origin >= 0 ? acc.at(origin) : start) : 0;
    }

    double time() {
      if (accumulated) {
        return t;
      }
      return origin >= 0 ? (origin + i) / fps : start + i / fps;
    }

    void advance() {
      i++;
      t += 1 / fps;
    }
  }

  /** The accumulated times {@code t_0 = 0, t_{i+1} = t_i + 1/fps} of one global grid, walked forward. */
  private static final class Accumulator {
    private final double delta;
    private long index;
    private double t;

    Accumulator(double fps) {
      this.delta = 1 / fps;
    }

    /** {@code t_k}; k must not decrease between calls. */
    double at(long k) {
      while (index < k) {
        t += delta;
        index++;
      }
      return t;
    }
  }

  private final BundleManifest m;
  private final SegmentPlan plan;
  private final VideoSource source;
  private final StageCalls calls;
  private final PhaseClock clock;
  private final Channel<SegmentFeatures> out;
  private final BooleanSupplier stopped;
  private final int visualBatch;
  private final int syncBatch;
  /** Encoder batches the producer submitted, in order, for the encoder task to await and assemble. */
  private final Channel<Queued> work;
  private boolean alone; // produceAlone(): the batches are counted and dropped, never submitted
  private volatile boolean feederDone; // the encoder task takes nothing more: the producer awaits what it submits

  /**
   * @param calls the job's encoder calls, on its home device
   * @param clock where decode time is counted
   * @param stopped true once no job wants the features any more
   */
  FeatureExtractor(PipelineConfig pipeline, StageCalls calls, PhaseClock clock, BooleanSupplier stopped,
      SegmentPlan plan, VideoSource source, Channel<SegmentFeatures> out) {
    this.m = pipeline.manifest();
    this.calls = calls;
    this.plan = plan;
    this.source = source;
    this.clock = clock;
    this.out = out;
    this.stopped = stopped;
    this.work = new Channel<>(PIPELINE - 2, stopped); // + one being awaited + one being put: PIPELINE calls
    this.visualBatch = pipeline.visualBatch();
    this.syncBatch = pipeline.syncBatch();
  }

  /** Starts the producer on the decode pool and the encoder feeder on its own pool; the producer closes the source. */
  void start(Executor decodePool, Executor feederPool) {
    try {
      decodePool.execute(new Producer());
    } catch (RuntimeException e) {
      source.close();
      throw e;
    }
    // If the feeder cannot start (the engine is closing), the exception fails the job; the producer
    // then sees it stopped, ends, and closes the source itself.
    feederPool.execute(this::encode);
  }

  // ---- producer: decode, sample, pack -----------------------------------------------------------

  /**
   * The producer as a task that owns the source: if the pool drops it unstarted (a close that
   * timed out calls {@code shutdownNow}), the engine closes it, and with it the source.
   */
  final class Producer implements Runnable {
    @Override
    public void run() {
      produce();
    }

    /** Closes the source of a producer that never ran. */
    void discard() {
      source.close();
    }
  }

  private void produce() {
    try (source) {
      decodeAll();
      work.end();
    } catch (RuntimeException e) {
      work.fail(e);
    } catch (Throwable e) { // errors, and checked exceptions a video source may throw undeclared
      work.fail(new FoleyException(FoleyException.Code.INTERNAL, "decoding failed: " + e, e));
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
    } finally {
      if (feederDone) {
        awaitLeftOver();
      }
    }
  }

  /**
   * Submits a packed batch to its encoder at once, from the producer's thread, and hands the call
   * to the encoder task, which awaits the calls in order and assembles the features. So the
   * device gets each batch as soon as it is packed, not when the encoder task wakes up (it may be
   * waiting for an earlier call's result). At most {@link #PIPELINE} calls of the job are
   * submitted and not yet taken apart: the producer waits on the full channel.
   */
  private void emit(EncoderWork o) {
    Queued q = alone ? new Queued(o, null, null) : submit(o);
    if (!work.put(q)) { // the job stopped first: nobody takes the call, but it still ends (with its event)
      if (q.call() != null) {
        q.call().awaitQuietly();
      }
    } else if (feederDone) {
      awaitLeftOver();
    }
  }

  /** Awaits (quietly) the calls the encoder task will not take any more, so that each one ends with its event. */
  private void awaitLeftOver() {
    for (Queued q : work.drain()) {
      if (q.call() != null) {
        q.call().awaitQuietly();
      }
    }
  }

  /**
   * What {@link #produceAlone()} took from the producer: the encoder batches and what they held, as
   * the encoder task would have submitted them.
   *
   * @param visualBatches visual batches
   * @param visualPictures pictures in them (each one resized and normalised)
   * @param visualCopies visual frames that reuse an earlier picture's features
   * @param syncBatches sync batches
   * @param syncWindows windows in them
   * @param syncCopies windows that reuse an earlier window's tokens
   * @param floats floats packed into all batches
   */
  record Drained(int visualBatches, int visualPictures, int visualCopies, int syncBatches, int syncWindows,
      int syncCopies, long floats) {}

  /**
   * Runs the producer on the calling thread exactly as the engine's decode task runs it (decode,
   * sample, convert, resize, normalise, pack; it closes the source), while a thread of its own takes
   * the packed batches in place of the encoder task, counts them and drops them. For measuring the
   * frame preparation alone ({@link FramePreparation}); {@code calls} is not used.
   *
   * @throws RuntimeException what the producer failed with
   */
  Drained produceAlone() {
    long[] n = new long[7];
    RuntimeException[] failed = new RuntimeException[1];
    Thread drain = new Thread(() -> {
      try {
        for (Queued q; (q = work.take()) != null; ) {
          EncoderWork o = q.work();
          if (o instanceof VisualBatch vb) {
            n[0]++;
            n[1] += vb.n();
            n[2] += vb.dupPic().length;
            n[6] += vb.data().length;
          } else if (o instanceof WindowBatch wb) {
            n[3]++;
            n[4] += wb.windows().length;
            n[5] += wb.copies().length;
            n[6] += wb.data().length;
          }
        }
      } catch (RuntimeException e) {
        failed[0] = e;
      }
    }, "foley-frames-drain");
    drain.setDaemon(true);
    drain.start();
    alone = true;
    produce();
    try {
      drain.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted while the frames were prepared", e);
    }
    if (failed[0] != null) {
      throw failed[0];
    }
    return new Drained((int) n[0], (int) n[1], (int) n[2], (int) n[3], (int) n[4], (int) n[5], n[6]);
  }

  private void decodeAll() {
    boolean accumulated = m.frameGrid() == BundleManifest.FrameGrid.ACCUMULATED;
    FrameSampler sampler = FrameSampler.over(source, m.frameRule(), accumulated ? 0 : FrameSampler.EPS);
    BundleManifest.VisualSpec vs = m.visual();
    BundleManifest.SyncSpec ss = m.sync();
    ResizeMode vMode = mode(vs.resize());
    ResizeMode sMode = mode(ss.resize());
    int vElems = 3 * vs.size() * vs.size();
    int sElems = 3 * ss.size() * ss.size();
    int window = ss.window();
    int stride = ss.stride();

    // every (stream, segment) sampling grid, merged by time; visual first at equal times
    java.util.PriorityQueue<Cursor> grids = new java.util.PriorityQueue<>((a, b) -> {
      int c = Double.compare(a.time(), b.time());
      if (c != 0) {
        return c;
      }
      c = Boolean.compare(b.visual, a.visual);
      return c != 0 ? c : Integer.compare(a.segment, b.segment);
    });
    long visualLeft = 0;
    long syncLeft = 0;
    Accumulator visualClock = new Accumulator(vs.fps());
    Accumulator syncClock = new Accumulator(ss.fps());
    for (int k = 0; k < plan.count; k++) {
      SegmentPlan.Segment seg = plan.segment(k);
      int syncUsed = (seg.windows() - 1) * stride + window; // frames after the last window are not read
      grids.add(new Cursor(true, seg, seg.visualFrames(), vs.fps(), accumulated, visualClock));
      grids.add(new Cursor(false, seg, syncUsed, ss.fps(), accumulated, syncClock));
      visualLeft += seg.visualFrames();
      syncLeft += syncUsed;
    }

    float[] vBuf = null;
    int vCount = 0;
    List<int[]> vPlace = new ArrayList<>(); // {segment, local} per encoded picture of the batch
    List<Long> vPics = new ArrayList<>();
    List<long[]> dups = new ArrayList<>(); // {segment, local, picture}
    DecodedFrame lastVisualFrame = null;
    long visualPic = -1;
    DecodedFrame lastSyncFrame = null;
    float[] lastSyncPixels = null;
    long syncPic = -1;
    Map<Integer, float[][]> syncFrames = new java.util.HashMap<>(); // segment -> its sync frames (null once packed)
    Map<Integer, long[]> syncIds = new java.util.HashMap<>(); // segment -> picture id per sync frame
    Map<Long, WindowRef> uniformWindow = new java.util.HashMap<>(); // picture id -> window of only that picture
    List<WindowRef> pending = new ArrayList<>();

    while (!grids.isEmpty()) {
      if (stopped.getAsBoolean()) {
        return;
      }
      Cursor c = grids.poll();
      double t = c.time();
      int k = c.segment;
      int i = c.i;
      c.advance();
      if (c.i < c.n) {
        grids.add(c);
      }
      long t0 = System.nanoTime();
      DecodedFrame f = sampler.frameAt(t);
      if (c.visual) {
        if (vBuf == null) {
          vBuf = new float[(int) Math.min(visualBatch, visualLeft) * vElems];
        }
        if (f == lastVisualFrame) {
          dups.add(new long[] {k, i, visualPic});
        } else {
          f.toTensor(vs.size(), vMode, vs.resizeFilter(), vs.mean(), vs.std(), vBuf, vCount * vElems);
          lastVisualFrame = f;
          vPlace.add(new int[] {k, i});
          vPics.add(++visualPic);
          vCount++;
        }
        clock.add(Phase.DECODE, System.nanoTime() - t0);
        visualLeft--;
        if (vCount * vElems == vBuf.length || visualLeft == 0) {
          float[] data = vCount * vElems == vBuf.length ? vBuf : java.util.Arrays.copyOf(vBuf, vCount * vElems);
          emit(new VisualBatch(data, vCount, vPlace.stream().mapToInt(x -> x[0]).toArray(),
              vPlace.stream().mapToInt(x -> x[1]).toArray(), vPics.stream().mapToLong(x -> x).toArray(),
              dups.stream().mapToInt(x -> (int) x[0]).toArray(), dups.stream().mapToInt(x -> (int) x[1]).toArray(),
              dups.stream().mapToLong(x -> x[2]).toArray()));
          vPlace.clear();
          vPics.clear();
          dups.clear();
          vBuf = null;
          vCount = 0;
        }
      } else {
        float[] frame;
        if (f == lastSyncFrame) {
          frame = lastSyncPixels; // the same picture: share its pixels
        } else {
          frame = new float[sElems];
          f.toTensor(ss.size(), sMode, ss.resizeFilter(), ss.mean(), ss.std(), frame, 0);
          lastSyncFrame = f;
          lastSyncPixels = frame;
          syncPic++;
        }
        clock.add(Phase.DECODE, System.nanoTime() - t0);
        syncFrames.computeIfAbsent(k, x -> new float[c.n][])[i] = frame;
        syncIds.computeIfAbsent(k, x -> new long[c.n])[i] = syncPic;
        int rel = i - (window - 1); // a window of this segment ends at frame i
        if (rel >= 0 && rel % stride == 0) {
          pending.add(new WindowRef(k, rel / stride));
        }
        syncLeft--;
        if (pending.size() >= syncBatch || (syncLeft == 0 && !pending.isEmpty())) {
          emit(packWindows(pending, syncFrames, syncIds, uniformWindow, sElems, window, stride));
          for (WindowRef w : pending) { // frames before the segment's next window are no longer needed
            float[][] frames = syncFrames.get(w.segment());
            int next = (w.window() + 1) * stride;
            if (next + window > frames.length) {
              syncFrames.remove(w.segment());
              syncIds.remove(w.segment());
            } else {
              java.util.Arrays.fill(frames, 0, next, null);
            }
          }
          pending.clear();
        }
      }
    }
  }

  private WindowBatch packWindows(List<WindowRef> windows, Map<Integer, float[][]> frames, Map<Integer, long[]> ids,
      Map<Long, WindowRef> uniform, int elems, int w, int stride) {
    List<WindowRef> encode = new ArrayList<>();
    List<Boolean> uniformFlags = new ArrayList<>();
    List<WindowCopy> copies = new ArrayList<>();
    for (WindowRef sw : windows) {
      long[] segIds = ids.get(sw.segment());
      int first = sw.window() * stride;
      long id = segIds[first];
      boolean same = true;
      for (int f = 1; f < w && same; f++) {
        same = segIds[first + f] == id;
      }
      WindowRef earlier = same ? uniform.get(id) : null;
      if (earlier != null) {
        copies.add(new WindowCopy(sw, earlier)); // a still picture: same tokens as before
      } else {
        if (same) {
          uniform.put(id, sw);
        }
        encode.add(sw);
        uniformFlags.add(same);
      }
    }
    float[] data = new float[encode.size() * w * elems];
    for (int b = 0; b < encode.size(); b++) {
      WindowRef sw = encode.get(b);
      float[][] segFrames = frames.get(sw.segment());
      int first = sw.window() * stride;
      for (int f = 0; f < w; f++) {
        float[] frame = segFrames == null ? null : segFrames[first + f];
        if (frame == null) {
          throw new FoleyException(FoleyException.Code.INTERNAL, "sync frame " + (first + f) + " of segment "
              + sw.segment() + " was evicted too early");
        }
        System.arraycopy(frame, 0, data, (b * w + f) * elems, elems);
      }
    }
    boolean[] flags = new boolean[uniformFlags.size()];
    for (int b = 0; b < flags.length; b++) {
      flags[b] = uniformFlags.get(b);
    }
    return new WindowBatch(encode.toArray(new WindowRef[0]), flags, data, copies.toArray(new WindowCopy[0]));
  }

  // ---- encoder: run the encoders, assemble segments --------------------------------------------

  private void encode() {
    float[][] visual = new float[plan.count][];
    float[][] sync = new float[plan.count][];
    int[] visualDone = new int[plan.count];
    int[] windowsDone = new int[plan.count];
    int next = 0;
    int dv = m.widths().visual();
    int perWindow = m.sync().tokensPerWindow() * m.widths().sync();
    Map<Long, float[]> recentVisual = new java.util.HashMap<>();
    Map<WindowRef, float[]> uniformTokens = new java.util.HashMap<>();
    calls.enter(Stage.VISUAL_ENCODER);
    calls.enter(Stage.SYNC_ENCODER);
    try {
      while (next < plan.count) {
        Queued taken = work.take(); // in the producer's order; rethrows the producer's failure
        if (taken == null) {
          if (stopped.getAsBoolean()) {
            return;
          }
          throw new FoleyException(FoleyException.Code.INTERNAL, "decoding ended with " + next + " of "
              + plan.count + " segments complete");
        }
        float[] got = taken.call() == null ? new float[0] : taken.call().await().get(taken.output()).floats();
        if (taken.work() instanceof VisualBatch vb) {
          for (int b = 0; b < vb.n(); b++) {
            float[] f = java.util.Arrays.copyOfRange(got, b * dv, (b + 1) * dv);
            recentVisual.put(vb.pic()[b], f);
            placeVisual(vb.seg()[b], vb.local()[b], f, visual, visualDone, dv);
          }
          for (int d = 0; d < vb.dupPic().length; d++) {
            placeVisual(vb.dupSeg()[d], vb.dupLocal()[d], recentVisual.get(vb.dupPic()[d]), visual, visualDone, dv);
          }
          if (vb.n() > 0) { // later duplicates can only refer to the newest picture
            long newest = vb.pic()[vb.n() - 1];
            recentVisual.keySet().removeIf(x -> x < newest);
          }
        } else if (taken.work() instanceof WindowBatch wb) {
          int n = wb.windows().length;
          for (int b = 0; b < n; b++) {
            WindowRef ref = wb.windows()[b];
            float[] t = java.util.Arrays.copyOfRange(got, b * perWindow, (b + 1) * perWindow);
            if (wb.uniform()[b]) { // a window of one still picture: later ones like it reuse these tokens
              uniformTokens.put(ref, t);
            }
            placeWindow(ref, t, sync, windowsDone, perWindow);
          }
          for (WindowCopy d : wb.copies()) {
            placeWindow(d.target(), uniformTokens.get(d.source()), sync, windowsDone, perWindow);
          }
        }
        while (next < plan.count && visualDone[next] == plan.segment(next).visualFrames()
            && windowsDone[next] == plan.segment(next).windows()) {
          if (!out.put(new SegmentFeatures(next, visual[next], sync[next]))) {
            return;
          }
          visual[next] = null;
          sync[next] = null;
          next++;
        }
      }
    } catch (RuntimeException e) {
      out.fail(e);
    } catch (Throwable e) {
      out.fail(new FoleyException(FoleyException.Code.INTERNAL, "feature extraction failed: " + e, e));
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
    } finally {
      // calls given up on still end, each with its event: from here the producer awaits what it
      // submits, and this awaits what it put before
      feederDone = true;
      awaitLeftOver(); // also unblocks a producer waiting on a full channel; it then sees the job stopped or finishes
      calls.exit(Stage.VISUAL_ENCODER);
      calls.exit(Stage.SYNC_ENCODER);
    }
  }

  /**
   * Encoder calls of one job submitted and not yet taken apart, at most: one in the encoder task's
   * hands, one in the channel and one the producer is handing over. Their inputs are the packed
   * batches {@link PipelineConfig#memoryNeed} counts.
   */
  static final int PIPELINE = 3;

  /** An encoder batch and its call in the device's queue (null: nothing to encode, only copies). */
  private record Queued(EncoderWork work, PendingCall call, String output) {}

  private Queued submit(EncoderWork o) {
    if (o instanceof VisualBatch vb) {
      int size = m.visual().size();
      return new Queued(o, vb.n() == 0 ? null : calls.submit(Stage.VISUAL_ENCODER, Phase.VISUAL,
          Map.of(StageContract.Visual.PIXELS, Tensor.of(vb.data(), vb.n(), 3, size, size)), vb.n(), vb.seg()[0], -1),
          StageContract.Visual.FEATURES);
    }
    WindowBatch wb = (WindowBatch) o;
    int n = wb.windows().length;
    int size = m.sync().size();
    int window = m.sync().window();
    return new Queued(o, n == 0 ? null : calls.submit(Stage.SYNC_ENCODER, Phase.SYNC,
        Map.of(StageContract.Sync.FRAMES, Tensor.of(wb.data(), n, window, 3, size, size)), n, wb.windows()[0].segment(),
        -1), StageContract.Sync.TOKENS);
  }

  private void placeVisual(int k, int local, float[] f, float[][] visual, int[] visualDone, int dv) {
    if (visual[k] == null) {
      visual[k] = new float[plan.segment(k).visualFrames() * dv];
    }
    System.arraycopy(f, 0, visual[k], local * dv, dv);
    visualDone[k]++;
  }

  private void placeWindow(WindowRef ref, float[] tokens, float[][] sync, int[] windowsDone, int perWindow) {
    int k = ref.segment();
    if (sync[k] == null) {
      sync[k] = new float[plan.segment(k).windows() * perWindow];
    }
    System.arraycopy(tokens, 0, sync[k], ref.window() * perWindow, perWindow);
    windowsDone[k]++;
  }

  private static ResizeMode mode(String s) {
    return s.equals("center_crop") ? ResizeMode.CENTER_CROP : ResizeMode.SQUASH;
  }
}
