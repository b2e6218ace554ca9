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
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
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
  /** A failure, put on the job's queue in place of features. */
  record Failure(RuntimeException error) {}

  private record VisualBatch(float[] data, int[] index, int n) {}

  private record WindowBatch(int[][] windows, float[] data) {}

  private static final Object END = new Object();

  private final BundleManifest m;
  private final SegmentPlan plan;
  private final VideoSource source;
  private final EngineCore engine;
  private final Job job;
  private final PhaseClock clock;
  private final BlockingQueue<Object> out;
  private final BooleanSupplier stopped;
  private final int visualBatch;
  private final int syncBatch;
  private final BlockingQueue<Object> work = new ArrayBlockingQueue<>(3);

  FeatureExtractor(EngineCore engine, Job job, SegmentPlan plan, VideoSource source, BlockingQueue<Object> out,
      int visualBatch, int syncBatch) {
    this.m = engine.manifest();
    this.engine = engine;
    this.job = job;
    this.plan = plan;
    this.source = source;
    this.clock = job.clock;
    this.out = out;
    this.stopped = job::isDone;
    this.visualBatch = visualBatch;
    this.syncBatch = syncBatch;
  }

  /** Starts both tasks on {@code pool}; the source is closed when the producer ends. */
  void start(Executor pool) {
    try {
      pool.execute(this::produce);
    } catch (RuntimeException e) {
      source.close();
      throw e;
    }
    pool.execute(this::encode);
  }

  // ---- producer: decode, sample, pack -----------------------------------------------------------

  private void produce() {
    try (source) {
      decodeAll();
      put(work, END);
    } catch (RuntimeException e) {
      put(work, new Failure(e));
    } catch (Error e) {
      put(work, new Failure(new FoleyException(FoleyException.Code.INTERNAL, "decoding failed: " + e, e)));
      throw e;
    }
  }

  private void decodeAll() {
    FrameSampler sampler = FrameSampler.over(source);
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
    TreeMap<Integer, float[]> syncFrames = new TreeMap<>();
    ArrayDeque<float[]> spare = new ArrayDeque<>();
    List<int[]> pending = new ArrayList<>(); // {segment, window}
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
        f.toTensor(vs.size(), vMode, vs.mean(), vs.std(), vBuf, vCount * vElems);
        clock.add(Phase.DECODE, System.nanoTime() - t0);
        vIdx[vCount++] = i++;
        if (vCount == vIdx.length) {
          put(work, new VisualBatch(vBuf, vIdx, vCount));
          vBuf = null;
          vCount = 0;
        }
      } else {
        DecodedFrame f = sampler.frameAt(ts);
        float[] frame = spare.isEmpty() ? new float[sElems] : spare.pop();
        f.toTensor(ss.size(), sMode, ss.mean(), ss.std(), frame, 0);
        clock.add(Phase.DECODE, System.nanoTime() - t0);
        syncFrames.put(j, frame);
        for (int k = 0; k < plan.count; k++) { // every segment with a window ending at frame j
          int rel = j - plan.syncStart(k) - (plan.window - 1);
          if (rel >= 0 && rel % plan.stride == 0 && rel / plan.stride < plan.windows) {
            pending.add(new int[] {k, rel / plan.stride});
          }
        }
        j++;
        if (pending.size() >= syncBatch || (j == syncTotal && !pending.isEmpty())) {
          put(work, packWindows(pending, syncFrames, sElems));
          for (int[] w : pending) {
            nextWindow[w[0]] = w[1] + 1;
          }
          pending.clear();
          int low = j; // frames before the earliest window not yet packed are no longer needed
          for (int k = 0; k < plan.count; k++) {
            if (nextWindow[k] < plan.windows) {
              low = Math.min(low, plan.syncStart(k) + nextWindow[k] * plan.stride);
            }
          }
          while (!syncFrames.isEmpty() && syncFrames.firstKey() < low) {
            float[] old = syncFrames.pollFirstEntry().getValue();
            if (spare.size() < 4) {
              spare.push(old);
            }
          }
        }
      }
    }
  }

  private WindowBatch packWindows(List<int[]> windows, TreeMap<Integer, float[]> frames, int elems) {
    int n = windows.size();
    int w = plan.window;
    float[] data = new float[n * w * elems];
    int[][] ids = new int[n][];
    for (int b = 0; b < n; b++) {
      int[] sw = windows.get(b);
      ids[b] = sw;
      int first = plan.syncStart(sw[0]) + sw[1] * plan.stride;
      for (int f = 0; f < w; f++) {
        float[] frame = frames.get(first + f);
        if (frame == null) {
          throw new FoleyException(FoleyException.Code.INTERNAL, "sync frame " + (first + f) + " was evicted too early");
        }
        System.arraycopy(frame, 0, data, (b * w + f) * elems, elems);
      }
    }
    return new WindowBatch(ids, data);
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
    engine.scheduler().enter(Stage.VISUAL_ENCODER);
    engine.scheduler().enter(Stage.SYNC_ENCODER);
    try {
      while (next < plan.count) {
        Object o = take(work);
        if (o == null) {
          return; // stopped
        }
        if (o instanceof Failure f) {
          put(out, f);
          return;
        }
        if (o == END) {
          throw new FoleyException(FoleyException.Code.INTERNAL, "decoding ended with " + next + " of "
              + plan.count + " segments complete");
        }
        if (o instanceof VisualBatch vb) {
          int size = m.visual().size();
          float[] feats = engine.call(job, Stage.VISUAL_ENCODER, Phase.VISUAL,
              Map.of("pixels", Tensor.of(vb.data(), vb.n(), 3, size, size)), vb.n(), -1, -1).get("features").floats();
          for (int b = 0; b < vb.n(); b++) {
            int g = vb.index()[b];
            for (int k = 0; k < plan.count; k++) {
              int rel = g - plan.visualStart(k);
              if (rel >= 0 && rel < plan.visualPerSegment) {
                if (visual[k] == null) {
                  visual[k] = new float[plan.visualPerSegment * dv];
                }
                System.arraycopy(feats, b * dv, visual[k], rel * dv, dv);
                visualDone[k]++;
              }
            }
          }
        } else if (o instanceof WindowBatch wb) {
          int n = wb.windows().length;
          int size = m.sync().size();
          float[] tokens = engine.call(job, Stage.SYNC_ENCODER, Phase.SYNC,
              Map.of("frames", Tensor.of(wb.data(), n, plan.window, 3, size, size)), n, -1, -1)
              .get("tokens").floats();
          for (int b = 0; b < n; b++) {
            int k = wb.windows()[b][0];
            if (sync[k] == null) {
              sync[k] = new float[plan.windows * perWindow];
            }
            System.arraycopy(tokens, b * perWindow, sync[k], wb.windows()[b][1] * perWindow, perWindow);
            windowsDone[k]++;
          }
        }
        while (next < plan.count && visualDone[next] == plan.visualPerSegment && windowsDone[next] == plan.windows) {
          if (!put(out, new SegmentFeatures(next, visual[next], sync[next]))) {
            return;
          }
          visual[next] = null;
          sync[next] = null;
          next++;
        }
      }
    } catch (RuntimeException e) {
      put(out, new Failure(e));
    } catch (Error e) {
      put(out, new Failure(new FoleyException(FoleyException.Code.INTERNAL, "feature extraction failed: " + e, e)));
      throw e;
    } finally {
      engine.scheduler().exit(Stage.VISUAL_ENCODER);
      engine.scheduler().exit(Stage.SYNC_ENCODER);
      work.clear(); // unblocks a producer waiting on a full queue; it then sees the job stopped or finishes
    }
  }

  // ---- queues that give up when the job stopped ------------------------------------------------

  private boolean put(BlockingQueue<Object> q, Object o) {
    try {
      while (!q.offer(o, 50, TimeUnit.MILLISECONDS)) {
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

  private Object take(BlockingQueue<Object> q) {
    try {
      while (true) {
        Object o = q.poll(50, TimeUnit.MILLISECONDS);
        if (o != null) {
          return o;
        }
        if (stopped.getAsBoolean()) {
          return null;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static ResizeMode mode(String s) {
    return s.equals("center_crop") ? ResizeMode.CENTER_CROP : ResizeMode.SQUASH;
  }
}
