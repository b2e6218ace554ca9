package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Stage;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.ResizeMode;
import io.foley4j.video.VideoSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

/**
 * Turns one video into per-segment encoder features, as two pipelined tasks: a producer decodes
 * the video once, front to back, samples frames by timestamp on the visual and sync grids and packs
 * encoder batches; an encoder task runs the two encoders on those batches and hands each segment's
 * features to the job, in order. Decoding the next frames thus overlaps the backend calls.
 *
 * <p>Memory stays flat in the video's length: a few packed batches in flight, the sync frames that
 * unbuilt windows still need (about one window plus the segment overlap), and the features of
 * segments not yet handed over.
 */
final class FeatureExtractor {
  /** What the producer hands to the encoder task: a batch for one of the two encoders. */
  private sealed interface EncoderWork permits VisualBatch, WindowBatch {}

  /**
   * Visual frames to encode ({@code index[0..n)}, pixels in {@code data}), then frames that show the
   * same picture as an earlier frame and reuse its features ({@code dupIndex[i]} copies
   * {@code dupSource[i]}): padding past the end, or a video slower than the sampling rate.
   */
  private record VisualBatch(float[] data, int[] index, int n, int[] dupIndex, int[] dupSource)
      implements EncoderWork {}

  /** Sync window {@code window} of segment {@code segment}. */
  private record WindowRef(int segment, int window) {}

  /** A window of one still picture that reuses the tokens of an identical earlier window. */
  private record WindowCopy(WindowRef target, WindowRef source) {}

  /** Windows to encode ({@code uniform[i]}: window i shows one picture), then windows that copy. */
  private record WindowBatch(WindowRef[] windows, boolean[] uniform, float[] data, WindowCopy[] copies)
      implements EncoderWork {}

  private final BundleManifest m;
  private final SegmentPlan plan;
  private final VideoSource source;
  private final EngineCore engine;
  private final Flight job;
  private final PhaseClock clock;
  private final Channel<SegmentFeatures> out;
  private final BooleanSupplier stopped;
  private final int visualBatch;
  private final int syncBatch;
  private final Channel<EncoderWork> work;

  FeatureExtractor(EngineCore engine, Flight job, SegmentPlan plan, VideoSource source, Channel<SegmentFeatures> out,
      int visualBatch, int syncBatch) {
    this.m = engine.manifest();
    this.engine = engine;
    this.job = job;
    this.plan = plan;
    this.source = source;
    this.clock = job.clock();
    this.out = out;
    this.stopped = job::isDone;
    this.work = new Channel<>(3, stopped);
    this.visualBatch = visualBatch;
    this.syncBatch = syncBatch;
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
    }
  }

  private void decodeAll() {
    FrameSampler sampler = FrameSampler.over(source, m.frameRule());
    BundleManifest.VisualSpec vs = m.visual();
    BundleManifest.SyncSpec ss = m.sync();
    ResizeMode vMode = mode(vs.resize());
    ResizeMode sMode = mode(ss.resize());
    int vElems = 3 * vs.size() * vs.size();
    int sElems = 3 * ss.size() * ss.size();
    int visualTotal = plan.visualTotal();
    int syncTotal = plan.syncTotal();

    float[] vBuf = null;
    int[] vIdx = null;
    int vCount = 0;
    DecodedFrame lastVisualFrame = null;
    int lastVisualIndex = -1;
    List<Integer> dupIdx = new ArrayList<>();
    List<Integer> dupSrc = new ArrayList<>();
    DecodedFrame lastSyncFrame = null;
    int syncFrameId = -1;
    Map<Integer, Integer> frameIdOf = new java.util.HashMap<>(); // sync index -> id of the picture shown
    Map<Integer, WindowRef> uniformWindow = new java.util.HashMap<>(); // picture id -> window of only that picture
    TreeMap<Integer, float[]> syncFrames = new TreeMap<>();
    ArrayDeque<float[]> spare = new ArrayDeque<>();
    List<WindowRef> pending = new ArrayList<>();
    int[] nextWindow = new int[plan.count]; // per segment, first window not yet packed

    int i = 0;
    int j = 0;
    while (i < visualTotal || j < syncTotal) {
      if (stopped.getAsBoolean()) {
        return;
      }
      double tv = i < visualTotal ? i / vs.fps() : Double.POSITIVE_INFINITY;
      double ts = j < syncTotal ? j / ss.fps() : Double.POSITIVE_INFINITY;
      long t0 = System.nanoTime();
      if (tv <= ts) {
        if (vBuf == null) {
          int n = Math.min(visualBatch, visualTotal - i);
          vBuf = new float[n * vElems];
          vIdx = new int[n];
        }
        DecodedFrame f = sampler.frameAt(tv);
        if (f == lastVisualFrame) {
          dupIdx.add(i);
          dupSrc.add(lastVisualIndex);
        } else {
          f.toTensor(vs.size(), vMode, vs.resizeFilter(), vs.mean(), vs.std(), vBuf, vCount * vElems);
          lastVisualFrame = f;
          lastVisualIndex = i;
          vIdx[vCount++] = i;
        }
        clock.add(Phase.DECODE, System.nanoTime() - t0);
        i++;
        if (vCount == vIdx.length || i == visualTotal) {
          float[] data = vCount * vElems == vBuf.length ? vBuf : java.util.Arrays.copyOf(vBuf, vCount * vElems);
          work.put(new VisualBatch(data, java.util.Arrays.copyOf(vIdx, vCount), vCount, toArray(dupIdx),
              toArray(dupSrc)));
          dupIdx.clear();
          dupSrc.clear();
          vBuf = null;
          vCount = 0;
        }
      } else {
        DecodedFrame f = sampler.frameAt(ts);
        float[] frame;
        if (f == lastSyncFrame) {
          frame = syncFrames.get(j - 1); // the same picture: share its pixels
        } else {
          frame = spare.isEmpty() ? new float[sElems] : spare.pop();
          f.toTensor(ss.size(), sMode, ss.resizeFilter(), ss.mean(), ss.std(), frame, 0);
          lastSyncFrame = f;
          syncFrameId++;
        }
        clock.add(Phase.DECODE, System.nanoTime() - t0);
        syncFrames.put(j, frame);
        frameIdOf.put(j, syncFrameId);
        for (int k = 0; k < plan.count; k++) { // every segment with a window ending at frame j
          int rel = j - plan.syncStart(k) - (plan.window - 1);
          if (rel >= 0 && rel % plan.stride == 0 && rel / plan.stride < plan.windows) {
            pending.add(new WindowRef(k, rel / plan.stride));
          }
        }
        j++;
        if (pending.size() >= syncBatch || (j == syncTotal && !pending.isEmpty())) {
          work.put(packWindows(pending, syncFrames, frameIdOf, uniformWindow, sElems));
          for (WindowRef w : pending) {
            nextWindow[w.segment()] = w.window() + 1;
          }
          pending.clear();
          int low = j; // frames before the earliest window not yet packed are no longer needed
          for (int k = 0; k < plan.count; k++) {
            if (nextWindow[k] < plan.windows) {
              low = Math.min(low, plan.syncStart(k) + nextWindow[k] * plan.stride);
            }
          }
          while (!syncFrames.isEmpty() && syncFrames.firstKey() < low) {
            Map.Entry<Integer, float[]> old = syncFrames.pollFirstEntry();
            frameIdOf.remove(old.getKey());
            if (spare.size() < 4 && !syncFrames.containsValue(old.getValue())) {
              spare.push(old.getValue()); // reuse the array unless a later index shares it
            }
          }
        }
      }
    }
  }

  private WindowBatch packWindows(List<WindowRef> windows, TreeMap<Integer, float[]> frames,
      Map<Integer, Integer> ids, Map<Integer, WindowRef> uniform, int elems) {
    int w = plan.window;
    List<WindowRef> encode = new ArrayList<>();
    List<Boolean> uniformFlags = new ArrayList<>();
    List<WindowCopy> copies = new ArrayList<>();
    for (WindowRef sw : windows) {
      int first = plan.syncStart(sw.segment()) + sw.window() * plan.stride;
      int id = ids.get(first);
      boolean same = true;
      for (int f = 1; f < w && same; f++) {
        same = ids.get(first + f) == id;
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
      int first = plan.syncStart(sw.segment()) + sw.window() * plan.stride;
      for (int f = 0; f < w; f++) {
        float[] frame = frames.get(first + f);
        if (frame == null) {
          throw new FoleyException(FoleyException.Code.INTERNAL, "sync frame " + (first + f) + " was evicted too early");
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

  private static int[] toArray(List<Integer> l) {
    int[] a = new int[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
    }
    return a;
  }

  // ---- encoder: run the encoders, assemble segments --------------------------------------------

  private void encode() {
    float[][] visual = new float[plan.count][];
    float[][] sync = new float[plan.count][];
    int[] visualDone = new int[plan.count];
    int[] windowsDone = new int[plan.count];
    int next = 0;
    int dv = m.visualDim();
    int perWindow = m.sync().tokensPerWindow() * m.syncDim();
    Map<Integer, float[]> recentVisual = new java.util.HashMap<>();
    Map<WindowRef, float[]> uniformTokens = new java.util.HashMap<>();
    engine.scheduler().enter(Stage.VISUAL_ENCODER);
    engine.scheduler().enter(Stage.SYNC_ENCODER);
    try {
      while (next < plan.count) {
        EncoderWork o = work.take(); // rethrows the producer's failure
        if (o == null) {
          if (stopped.getAsBoolean()) {
            return;
          }
          throw new FoleyException(FoleyException.Code.INTERNAL, "decoding ended with " + next + " of "
              + plan.count + " segments complete");
        }
        if (o instanceof VisualBatch vb) {
          int size = m.visual().size();
          float[] feats = vb.n() == 0 ? new float[0] : engine.call(job, Stage.VISUAL_ENCODER, Phase.VISUAL,
              Map.of("pixels", Tensor.of(vb.data(), vb.n(), 3, size, size)), vb.n(),
              Math.min(plan.count - 1, vb.index()[0] / Math.max(1, plan.visualHop)), -1).get("features").floats();
          for (int b = 0; b < vb.n(); b++) {
            float[] f = java.util.Arrays.copyOfRange(feats, b * dv, (b + 1) * dv);
            recentVisual.put(vb.index()[b], f);
            placeVisual(vb.index()[b], f, visual, visualDone, dv);
          }
          for (int d = 0; d < vb.dupIndex().length; d++) {
            placeVisual(vb.dupIndex()[d], recentVisual.get(vb.dupSource()[d]), visual, visualDone, dv);
          }
          if (vb.n() > 0) { // later duplicates can only refer to the newest picture
            int newest = vb.index()[vb.n() - 1];
            recentVisual.keySet().removeIf(x -> x < newest);
          }
        } else if (o instanceof WindowBatch wb) {
          int n = wb.windows().length;
          int size = m.sync().size();
          float[] tokens = n == 0 ? new float[0] : engine.call(job, Stage.SYNC_ENCODER, Phase.SYNC,
              Map.of("frames", Tensor.of(wb.data(), n, plan.window, 3, size, size)), n, wb.windows()[0].segment(), -1)
              .get("tokens").floats();
          for (int b = 0; b < n; b++) {
            WindowRef ref = wb.windows()[b];
            int k = ref.segment();
            if (sync[k] == null) {
              sync[k] = new float[plan.windows * perWindow];
            }
            float[] t = java.util.Arrays.copyOfRange(tokens, b * perWindow, (b + 1) * perWindow);
            if (wb.uniform()[b]) { // a window of one still picture: later ones like it reuse these tokens
              uniformTokens.put(ref, t);
            }
            System.arraycopy(t, 0, sync[k], ref.window() * perWindow, perWindow);
            windowsDone[k]++;
          }
          for (WindowCopy d : wb.copies()) {
            int k = d.target().segment();
            if (sync[k] == null) {
              sync[k] = new float[plan.windows * perWindow];
            }
            System.arraycopy(uniformTokens.get(d.source()), 0, sync[k], d.target().window() * perWindow, perWindow);
            windowsDone[k]++;
          }
        }
        while (next < plan.count && visualDone[next] == plan.visualPerSegment && windowsDone[next] == plan.windows) {
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
      engine.scheduler().exit(Stage.VISUAL_ENCODER);
      engine.scheduler().exit(Stage.SYNC_ENCODER);
      work.clear(); // unblocks a producer waiting on a full queue; it then sees the job stopped or finishes
    }
  }

  private void placeVisual(int g, float[] f, float[][] visual, int[] visualDone, int dv) {
    for (int k = 0; k < plan.count; k++) {
      int rel = g - plan.visualStart(k);
      if (rel >= 0 && rel < plan.visualPerSegment) {
        if (visual[k] == null) {
          visual[k] = new float[plan.visualPerSegment * dv];
        }
        System.arraycopy(f, 0, visual[k], rel * dv, dv);
        visualDone[k]++;
      }
    }
  }

  private static ResizeMode mode(String s) {
    return s.equals("center_crop") ? ResizeMode.CENTER_CROP : ResizeMode.SQUASH;
  }
}
