package io.foley4j.pipeline;

import io.foley4j.FoleyException;
import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Stage;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.FrameSampler;
import io.foley4j.video.ResizeMode;
import io.foley4j.video.VideoSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Decodes one video once, front to back, samples frames by timestamp on the visual and sync grids,
 * runs the two encoders in small batches, and hands each segment's features to the job in order.
 *
 * <p>Memory stays flat in the video's length: it holds one batch of visual frames, the sync frames
 * that unfinished windows still need (about one window plus the segment overlap), and the features
 * of segments not yet handed over. Runs on the engine's decode pool; the source is closed at the end.
 */
final class FeatureExtractor implements Runnable {
  /** Put on the queue after the last segment, or wrapping the failure. */
  record Failure(RuntimeException error) {}

  private final BundleManifest m;
  private final SegmentPlan plan;
  private final VideoSource source;
  private final BackendRunner runner;
  private final PhaseClock clock;
  private final BlockingQueue<Object> out;
  private final BooleanSupplier stopped;
  private final int visualBatch;
  private final int syncBatch;

  // per segment state
  private final float[][] visual;
  private final float[][] sync;
  private final int[] visualDone;
  private final int[] windowsDone;
  private int nextToSend;

  FeatureExtractor(BundleManifest m, SegmentPlan plan, VideoSource source, BackendRunner runner, PhaseClock clock,
      BlockingQueue<Object> out, BooleanSupplier stopped, int visualBatch, int syncBatch) {
    this.m = m;
    this.plan = plan;
    this.source = source;
    this.runner = runner;
    this.clock = clock;
    this.out = out;
    this.stopped = stopped;
    this.visualBatch = visualBatch;
    this.syncBatch = syncBatch;
    this.visual = new float[plan.count][];
    this.sync = new float[plan.count][];
    this.visualDone = new int[plan.count];
    this.windowsDone = new int[plan.count];
  }

  @Override
  public void run() {
    try (source) {
      extract();
    } catch (RuntimeException e) {
      offer(new Failure(e));
    } catch (Error e) {
      offer(new Failure(new FoleyException(FoleyException.Code.INTERNAL, "feature extraction failed: " + e, e)));
      throw e;
    }
  }

  private void extract() {
    FrameSampler sampler = FrameSampler.over(source);
    BundleManifest.VisualSpec vs = m.visual();
    BundleManifest.SyncSpec ss = m.sync();
    ResizeMode vMode = mode(vs.resize());
    ResizeMode sMode = mode(ss.resize());
    int vElems = 3 * vs.size() * vs.size();
    int sElems = 3 * ss.size() * ss.size();
    int visualTotal = plan.visualTotal();
    int syncTotal = plan.syncTotal();

    float[] vBuf = new float[visualBatch * vElems];
    int[] vIdx = new int[visualBatch];
    int vCount = 0;
    TreeMap<Integer, float[]> syncFrames = new TreeMap<>();
    ArrayDeque<float[]> spare = new ArrayDeque<>();
    List<int[]> pendingWindows = new ArrayList<>(); // {segment, window}

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
        DecodedFrame f = sampler.frameAt(tv);
        f.toTensor(vs.size(), vMode, vs.mean(), vs.std(), vBuf, vCount * vElems);
        clock.add(Phase.DECODE, System.nanoTime() - t0);
        vIdx[vCount++] = i++;
        if (vCount == visualBatch || i == visualTotal) {
          encodeVisual(vBuf, vIdx, vCount, vElems);
          vCount = 0;
        }
      } else {
        DecodedFrame f = sampler.frameAt(ts);
        float[] frame = spare.isEmpty() ? new float[sElems] : spare.pop();
        f.toTensor(ss.size(), sMode, ss.mean(), ss.std(), frame, 0);
        clock.add(Phase.DECODE, System.nanoTime() - t0);
        syncFrames.put(j, frame);
        // every segment that has a window ending at frame j
        for (int k = 0; k < plan.count; k++) {
          int rel = j - plan.syncStart(k) - (plan.window - 1);
          if (rel >= 0 && rel % plan.stride == 0 && rel / plan.stride < plan.windows) {
            pendingWindows.add(new int[] {k, rel / plan.stride});
          }
        }
        j++;
        if (pendingWindows.size() >= syncBatch || (j == syncTotal && !pendingWindows.isEmpty())) {
          encodeWindows(pendingWindows, syncFrames, sElems);
          pendingWindows.clear();
          // frames before the earliest window that is not built yet are no longer needed
          int low = lowestNeededSyncFrame(j);
          while (!syncFrames.isEmpty() && syncFrames.firstKey() < low) {
            spare.push(syncFrames.pollFirstEntry().getValue());
            if (spare.size() > 4) {
              spare.pop();
            }
          }
        }
      }
      sendReady();
    }
    sendReady();
    if (nextToSend != plan.count) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "feature extraction ended with " + nextToSend + " of "
          + plan.count + " segments complete");
    }
  }

  /** The first sync frame any window not yet encoded will use, given frames before j were read. */
  private int lowestNeededSyncFrame(int j) {
    int low = j;
    for (int k = 0; k < plan.count; k++) {
      if (windowsDone[k] < plan.windows) {
        // windows are built in order within a segment; its next one starts here
        int start = plan.syncStart(k) + windowsDone[k] * plan.stride;
        low = Math.min(low, start);
      }
    }
    return low;
  }

  private void encodeVisual(float[] buf, int[] idx, int n, int elems) {
    float[] data = n * elems == buf.length ? buf : java.util.Arrays.copyOf(buf, n * elems);
    int size = m.visual().size();
    Tensor in = Tensor.of(data, n, 3, size, size);
    float[] feats = runner.run(Stage.VISUAL_ENCODER, Map.of("pixels", in), clock, Phase.VISUAL).get("features").floats();
    int d = m.visualDim();
    for (int b = 0; b < n; b++) {
      int g = idx[b];
      for (int k = 0; k < plan.count; k++) {
        int rel = g - plan.visualStart(k);
        if (rel >= 0 && rel < plan.visualPerSegment) {
          if (visual[k] == null) {
            visual[k] = new float[plan.visualPerSegment * d];
          }
          System.arraycopy(feats, b * d, visual[k], rel * d, d);
          visualDone[k]++;
        }
      }
    }
  }

  private void encodeWindows(List<int[]> windows, TreeMap<Integer, float[]> frames, int elems) {
    int n = windows.size();
    int w = plan.window;
    float[] data = new float[n * w * elems];
    for (int b = 0; b < n; b++) {
      int[] sw = windows.get(b);
      int first = plan.syncStart(sw[0]) + sw[1] * plan.stride;
      for (int f = 0; f < w; f++) {
        float[] frame = frames.get(first + f);
        if (frame == null) {
          throw new FoleyException(FoleyException.Code.INTERNAL, "sync frame " + (first + f) + " was evicted too early");
        }
        System.arraycopy(frame, 0, data, (b * w + f) * elems, elems);
      }
    }
    int size = m.sync().size();
    Tensor in = Tensor.of(data, n, w, 3, size, size);
    float[] tokens = runner.run(Stage.SYNC_ENCODER, Map.of("frames", in), clock, Phase.SYNC).get("tokens").floats();
    int per = m.sync().tokensPerWindow() * m.syncDim();
    for (int b = 0; b < n; b++) {
      int[] sw = windows.get(b);
      int k = sw[0];
      if (sync[k] == null) {
        sync[k] = new float[plan.windows * per];
      }
      System.arraycopy(tokens, b * per, sync[k], sw[1] * per, per);
      windowsDone[k]++;
    }
  }

  private void sendReady() {
    while (nextToSend < plan.count && visualDone[nextToSend] == plan.visualPerSegment
        && windowsDone[nextToSend] == plan.windows) {
      int k = nextToSend++;
      if (!offer(new SegmentFeatures(k, visual[k], sync[k]))) {
        return;
      }
      visual[k] = null;
      sync[k] = null;
    }
  }

  /** Blocks while the job's queue is full; gives up when the job stopped. */
  private boolean offer(Object o) {
    try {
      while (!out.offer(o, 50, TimeUnit.MILLISECONDS)) {
        if (stopped.getAsBoolean()) {
          return false;
        }
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static ResizeMode mode(String s) {
    return s.equals("center_crop") ? ResizeMode.CENTER_CROP : ResizeMode.SQUASH;
  }
}
