package io.foley4j.backend;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A stage session on ONNX Runtime. Internal: GPU backends reuse it with their own execution
 * providers through {@link OrtSessions}; applications use {@link Backend}.
 */
final class OrtStageSession implements StageSession {
  private final StageSpec spec;
  private boolean shrinkArena; // set once, before the session is published
  private final OrtEnvironment env;
  private final OrtSession session;
  private final AtomicBoolean closed = new AtomicBoolean();
  private boolean cacheHit; // set once, before the session is published
  private final AtomicLong runNanos = new AtomicLong();
  private final Object terminateLock = new Object();
  private OrtSession.RunOptions running; // guarded by terminateLock
  private final java.util.ArrayDeque<java.nio.ByteBuffer> spare = new java.util.ArrayDeque<>(); // guarded by itself
  private final AtomicBoolean holding = new AtomicBoolean(); // a call is using the held inputs
  private final Map<String, Held> held = new HashMap<>(); // by input name; guarded by holding

  /** ONNX Runtime's session option that stops the intra-op threads spinning when a call returns. */
  static final String SPINNING_STOP = "session.force_spinning_stop";

  /**
   * ONNX Runtime's session option naming graph optimizers to leave out; a stage whose weights are
   * stored in bfloat16 leaves out {@code ConstantFolding}, which would turn every cast of a weight
   * into a float32 copy of it at load (the float32 memory again).
   */
  static final String DISABLED_OPTIMIZERS = "optimization.disable_specified_optimizers";

  /**
   * ONNX Runtime's run option that gives the CPU memory arena's free chunks back when the call ends.
   * Every session has its own arena, which otherwise keeps its largest call's activations for good:
   * with HVF's encoders at their default batches that was about 2.5 GB held after the encoders had run
   * (docs/tuning.md, "Memory of a CPU node").
   */
  static final String ARENA_SHRINKAGE = "memory.enable_memory_arena_shrinkage";

  private OrtStageSession(StageSpec spec, OrtEnvironment env, OrtSession session) {
    this.spec = spec;
    this.env = env;
    this.session = session;
  }

  /**
   * Loads a model file as a stage session and checks its inputs and outputs against the manifest.
   *
   * @param configure adds execution providers or other options; may be null
   */
  static OrtStageSession open(StageSpec spec, Path modelFile, int intraOpThreads,
      CpuBackend.Optimization optimization, boolean memoryArena, Consumer<OrtSession.SessionOptions> configure) {
    return open(spec, modelFile, intraOpThreads, optimization, memoryArena, configure, null);
  }

  /**
   * As above; with {@code optimizedCache} set (a directory), the graph ONNX Runtime optimized is
   * stored there at the first load and later loads read it back without optimizing again.
   */
  static OrtStageSession open(StageSpec spec, Path modelFile, int intraOpThreads,
      CpuBackend.Optimization optimization, boolean memoryArena, Consumer<OrtSession.SessionOptions> configure,
      Path optimizedCache) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions.OptLevel level = switch (optimization) {
      case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
      case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
      case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
      case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
    };
    Path cached = null;
    if (optimizedCache != null) {
      cached = optimizedCache.resolve(OptimizedModelCache.fileName(spec, env.getVersion(), "cpu", optimization));
      if (java.nio.file.Files.isRegularFile(cached)) {
        try {
          // The stored graph is already optimized: load it as it is.
          return create(spec, modelFile, cached, env, intraOpThreads, OrtSession.SessionOptions.OptLevel.NO_OPT,
              memoryArena, configure, null, true);
        } catch (RuntimeException e) { // a damaged cache file: optimize again from the bundle and replace it
          System.getLogger("io.foley4j.backend").log(System.Logger.Level.WARNING, "optimized-model cache file "
              + cached + " cannot be loaded (" + e.getMessage() + "); optimizing stage " + spec.stage().key() + " again");
        }
      }
    }
    if (cached == null) {
      return create(spec, modelFile, modelFile, env, intraOpThreads, level, memoryArena, configure, null, false);
    }
    Path tmp = OptimizedModelCache.tempFor(cached);
    try {
      OrtStageSession session = create(spec, modelFile, modelFile, env, intraOpThreads, level, memoryArena, configure,
          tmp, false);
      OptimizedModelCache.publish(tmp, cached);
      return session;
    } finally {
      OptimizedModelCache.deleteQuietly(tmp);
    }
  }

  private static OrtStageSession create(StageSpec spec, Path modelFile, Path loadFrom, OrtEnvironment env,
      int intraOpThreads, OrtSession.SessionOptions.OptLevel level, boolean memoryArena,
      Consumer<OrtSession.SessionOptions> configure, Path saveOptimizedTo, boolean cacheHit) {
    OrtSession session = null;
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setIntraOpNumThreads(intraOpThreads);
      so.setInterOpNumThreads(1);
      so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      so.setOptimizationLevel(level);
      so.setCPUArenaAllocator(memoryArena);
      so.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
      // The intra-op pool's threads spin for work between operators; when a call ends they would go on
      // spinning for a while, taking the cores the engine's own threads need between calls (the
      // device worker's copies and next step, the frame preparation of later segments).
      so.addConfigEntry(SPINNING_STOP, "1");
      if (spec.bfloat16Weights()) {
        so.addConfigEntry(DISABLED_OPTIMIZERS, "ConstantFolding");
      }
      if (saveOptimizedTo != null) {
        so.setOptimizedModelFilePath(saveOptimizedTo.toString());
      }
      if (configure != null) {
        configure.accept(so);
      }
      session = env.createSession(loadFrom.toString(), so);
      check(spec, modelFile, "input", spec.inputs(), session.getInputInfo());
      check(spec, modelFile, "output", spec.outputs(), session.getOutputInfo());
      OrtStageSession s = new OrtStageSession(spec, env, session);
      s.cacheHit = cacheHit;
      return s;
    } catch (OrtException e) {
      closeQuietly(session);
      throw loadFailure(spec, modelFile, e);
    } catch (RuntimeException e) {
      closeQuietly(session);
      throw e;
    }
  }

  /**
   * Gives the CPU arena's free chunks back after each call when {@code cpu} asks for it
   * ({@link CpuBackend#arenaShrinkage()}) and this stage is called once per segment: the encoders
   * and the VAE decoder. The denoiser, called step after step at the same shapes, keeps its arena
   * for the next step. Call before the session is published.
   */
  OrtStageSession shrinkArenaAfterCalls(CpuBackend cpu) {
    shrinkArena = cpu.memoryArena() && cpu.arenaShrinkage() && spec.stage() != io.foley4j.bundle.Stage.DENOISER;
    return this;
  }

  /** Whether calls give the arena's free chunks back (see {@link #shrinkArenaAfterCalls}). */
  boolean shrinksArena() {
    return shrinkArena;
  }

  @Override
  public boolean optimizedModelCacheHit() {
    return cacheHit;
  }

  /**
   * The error for a session that ONNX Runtime could not create. A file that is not a valid model
   * (unparseable protobuf, inconsistent graph, no graph, an operator or type ONNX Runtime does not
   * implement, a model ONNX Runtime refuses to load, external data it cannot read) is a broken
   * bundle; anything else, such as an
   * execution provider that fails to start, is a backend failure.
   */
  static FoleyException loadFailure(StageSpec spec, Path modelFile, OrtException e) {
    String file = fileName(modelFile);
    boolean badModel = switch (e.getCode()) {
      case ORT_INVALID_PROTOBUF, ORT_INVALID_GRAPH, ORT_NO_MODEL, ORT_NOT_IMPLEMENTED, ORT_NO_SUCHFILE -> true;
      // ORT reports a model it refuses (unsupported IR version or opset, bad initializer) as a plain
      // failure of the load step; its message then starts with "Load model from".
      // Weights it cannot read from the model's external data (missing, truncated, out of bounds)
      // fail the same way, naming the initializer: the bundle's files are broken, not the runtime.
      case ORT_FAIL, ORT_INVALID_ARGUMENT -> isModelFileProblem(String.valueOf(e.getMessage()));
      // a file beside the model (its external data) that does not exist or cannot be read
      case ORT_RUNTIME_EXCEPTION -> String.valueOf(e.getMessage()).contains("filesystem error")
          && modelFile.toAbsolutePath().getParent() != null
          && String.valueOf(e.getMessage()).contains(modelFile.toAbsolutePath().getParent().toString());
      default -> false;
    };
    if (badModel) {
      return new InvalidBundleException("stage " + spec.stage().key() + ": " + file + " (" + modelFile
          + ") is not a loadable ONNX model: " + e.getMessage() + ". The file is damaged or was not exported"
          + " correctly; re-export the stage or re-download the bundle", e);
    }
    return new FoleyException(FoleyException.Code.BACKEND_FAILURE, "ONNX Runtime cannot load stage "
        + spec.stage().key() + " from " + modelFile + ": " + e.getMessage(), e);
  }

  /** Whether an ORT_FAIL message is about the model's own files (the model or its external data). */
  private static boolean isModelFileProblem(String message) {
    String m = message.toLowerCase(java.util.Locale.ROOT);
    return message.contains("Load model from") || m.contains("external initializer") || m.contains("external data")
        || m.contains("getextdatafromtensorproto") || m.contains("deserialize tensor");
  }

  private static void check(StageSpec spec, Path modelFile, String kind, List<TensorSpec> declared,
      Map<String, NodeInfo> actual) {
    String where = "stage " + spec.stage().key() + " (" + fileName(modelFile) + ")";
    String advice = "; the file does not hold this stage's model or the manifest declares it wrongly: re-export the"
        + " bundle or re-download it";
    Map<String, TensorSpec> byName = new LinkedHashMap<>();
    declared.forEach(t -> byName.put(t.name(), t));
    if (!byName.keySet().equals(actual.keySet())) {
      throw new InvalidBundleException(where + ": the ONNX model's " + kind + "s " + actual.keySet()
          + " differ from the manifest's " + byName.keySet() + advice);
    }
    for (NodeInfo n : actual.values()) {
      TensorSpec t = byName.get(n.getName());
      if (!(n.getInfo() instanceof TensorInfo ti)) {
        throw new InvalidBundleException(where + ": " + kind + " " + n.getName() + " is not a tensor" + advice);
      }
      String dtype = switch (ti.type) {
        case FLOAT -> "float32";
        case FLOAT16 -> "float16";
        case BFLOAT16 -> "bfloat16";
        case INT64 -> "int64";
        default -> ti.type.toString().toLowerCase(java.util.Locale.ROOT);
      };
      long[] shape = ti.getShape();
      if (!dtype.equals(t.dtype())) {
        throw new InvalidBundleException("element type mismatch in " + where + ": the ONNX model's " + kind + " "
            + n.getName() + " is " + dtype + " but the manifest declares " + t.dtype() + " (" + t + ")" + advice);
      }
      boolean ok = shape.length == t.rank();
      for (int i = 0; ok && i < shape.length; i++) {
        // -1 in the model is a symbolic dimension; it must be symbolic in the manifest too, or any value fits it.
        ok = shape[i] == t.dim(i) || shape[i] < 0;
      }
      if (!ok) {
        throw new InvalidBundleException("shape mismatch in " + where + ": the ONNX model's " + kind
            + " " + n.getName() + " is " + dtype + java.util.Arrays.toString(shape).replace("-1", "batch")
            + " but the manifest declares " + t + advice);
      }
    }
  }

  private static String fileName(Path p) {
    return p.getFileName() == null ? p.toString() : p.getFileName().toString();
  }

  @Override
  public StageSpec spec() {
    return spec;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    return runBatch(List.of(inputs));
  }

  /**
   * Copies each input's parts straight into one direct buffer (no concatenated copy on the heap)
   * and keeps it, with the runtime's tensor over it, for the next call ({@link Held}): when that
   * call passes the same tensor objects for an input, in the same order, the input is neither
   * copied nor wrapped again. A segment's conditioning at its 50 denoiser steps is copied once.
   * Calls that overlap (the engine makes one at a time per session) use fresh buffers instead.
   */
  @Override
  public Map<String, Tensor> runBatch(List<Map<String, Tensor>> items) {
    if (closed.get()) {
      throw new FoleyException(FoleyException.Code.CLOSED, "stage " + spec.stage().key() + " session is closed");
    }
    boolean own = holding.compareAndSet(false, true); // this call may use and replace the held inputs
    Map<String, OnnxTensor> feed = new HashMap<>();
    java.util.List<OnnxTensor> fresh = new java.util.ArrayList<>(); // this call's own tensors, closed after it
    java.util.List<java.nio.ByteBuffer> buffers = new java.util.ArrayList<>();
    try {
      for (TensorSpec t : spec.inputs()) {
        Tensor[] parts = parts(items, t);
        Held h = own ? held.get(t.name()) : null;
        if (h != null && h.holds(parts)) {
          feed.put(t.name(), h.tensor);
          continue;
        }
        long bytes = 0;
        for (Tensor x : parts) {
          bytes += (long) x.size() * (!x.isFloat() ? Long.BYTES : t.isHalf() ? Short.BYTES : Float.BYTES);
        }
        java.nio.ByteBuffer direct;
        if (h != null) { // replaced: its buffer is reused when it is large enough
          held.remove(t.name());
          h.tensor.close();
          if (h.buffer.capacity() >= bytes) {
            direct = h.buffer.clear().limit((int) bytes);
          } else {
            giveBack(h.buffer);
            direct = takeBuffer(bytes);
          }
        } else {
          direct = takeBuffer(bytes);
        }
        OnnxTensor tensor;
        try {
          tensor = fill(t, parts, direct);
        } catch (OrtException | RuntimeException e) {
          giveBack(direct);
          throw e;
        }
        feed.put(t.name(), tensor);
        if (own) {
          held.put(t.name(), new Held(parts, tensor, direct));
        } else {
          fresh.add(tensor);
          buffers.add(direct);
        }
      }
      long t0 = System.nanoTime();
      try (OrtSession.RunOptions options = new OrtSession.RunOptions()) {
        if (shrinkArena) {
          options.addRunConfigEntry(ARENA_SHRINKAGE, "cpu:0");
        }
        synchronized (terminateLock) {
          running = options;
        }
        try (OrtSession.Result r = session.run(feed, options)) {
          runNanos.addAndGet(System.nanoTime() - t0);
          return copyOut(r);
        } finally {
          synchronized (terminateLock) { // never terminate options that are being closed
            running = null;
          }
        }
      }
    } catch (OrtException e) {
      throw new FoleyException(FoleyException.Code.BACKEND_FAILURE,
          "ONNX Runtime failed running stage " + spec.stage().key() + ": " + e.getMessage(), e);
    } finally {
      for (OnnxTensor t : fresh) {
        t.close();
      }
      buffers.forEach(this::giveBack); // only after the tensors that point into them are closed
      if (own) {
        holding.set(false);
      }
    }
  }

  /** The items' tensors of input {@code t}, in order, checked. */
  private Tensor[] parts(List<Map<String, Tensor>> items, TensorSpec t) {
    Tensor[] parts = new Tensor[items.size()];
    for (int i = 0; i < parts.length; i++) {
      Tensor x = items.get(i).get(t.name());
      if (x == null) {
        throw new FoleyException(FoleyException.Code.INTERNAL, "stage " + spec.stage().key() + " needs input " + t.name());
      }
      if (t.isHalf() && !x.isFloat()) {
        throw new FoleyException(FoleyException.Code.INTERNAL, "stage " + spec.stage().key() + " input " + t.name()
            + " is declared " + t.dtype() + " but was given " + x.dtype());
      }
      if (i > 0 && !sameButBatch(parts[0], x)) {
        throw new FoleyException(FoleyException.Code.INTERNAL, "stage " + spec.stage().key() + " input " + t.name()
            + ": items of one call differ apart from the batch axis (" + parts[0] + ", " + x + ")");
      }
      parts[i] = x;
    }
    return parts;
  }

  private static boolean sameButBatch(Tensor a, Tensor b) {
    if (a.isFloat() != b.isFloat() || a.rank() != b.rank() || a.rank() == 0) {
      return false;
    }
    for (int d = 1; d < a.rank(); d++) {
      if (a.dim(d) != b.dim(d)) {
        return false;
      }
    }
    return true;
  }

  /** Copies the parts, in order, into {@code direct} (converted where the model is half precision) and wraps it. */
  private OnnxTensor fill(TensorSpec t, Tensor[] parts, java.nio.ByteBuffer direct) throws OrtException {
    long[] shape = parts[0].shape();
    for (int i = 1; i < parts.length; i++) {
      shape[0] += parts[i].dim(0);
    }
    if (t.isHalf()) { // float32 in Java, float16/bfloat16 in the model: converted into the reused buffer
      boolean bf16 = t.dtype().equals("bfloat16");
      java.nio.ShortBuffer sb = direct.asShortBuffer();
      for (Tensor x : parts) {
        HalfFloats.toHalf(x.floats(), sb, bf16);
      }
      return OnnxTensor.createTensor(env, sb.flip(), shape,
          bf16 ? ai.onnxruntime.OnnxJavaType.BFLOAT16 : ai.onnxruntime.OnnxJavaType.FLOAT16);
    }
    if (parts[0].isFloat()) {
      FloatBuffer fb = direct.asFloatBuffer();
      for (Tensor x : parts) {
        fb.put(x.floats());
      }
      return OnnxTensor.createTensor(env, fb.flip(), shape);
    }
    LongBuffer lb = direct.asLongBuffer();
    for (Tensor x : parts) {
      lb.put(x.longs());
    }
    return OnnxTensor.createTensor(env, lb.flip(), shape);
  }

  /**
   * One input of the last call, kept in the runtime's memory: the tensor over the direct buffer
   * that holds the parts' data, and the parts it was made from (weakly: holding the input keeps
   * no caller's array alive). The next call that passes the same part objects in the same order
   * feeds it as it is; any other replaces it. Guarded by {@code holding}.
   */
  private static final class Held {
    final java.lang.ref.WeakReference<Tensor>[] parts;
    final OnnxTensor tensor;
    final java.nio.ByteBuffer buffer;

    @SuppressWarnings("unchecked")
    Held(Tensor[] parts, OnnxTensor tensor, java.nio.ByteBuffer buffer) {
      this.parts = new java.lang.ref.WeakReference[parts.length];
      for (int i = 0; i < parts.length; i++) {
        this.parts[i] = new java.lang.ref.WeakReference<>(parts[i]);
      }
      this.tensor = tensor;
      this.buffer = buffer;
    }

    boolean holds(Tensor[] given) {
      if (given.length != parts.length) {
        return false;
      }
      for (int i = 0; i < given.length; i++) {
        if (parts[i].get() != given[i]) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * Most spare input buffers a session keeps: one per input, besides the one each input holds
   * ({@link Held}). The engine makes one call per session at a time, so that covers one call's
   * inputs in two sizes (batch sizes vary).
   */
  private int maxSpare() {
    return spec.inputs().size();
  }

  /**
   * A direct buffer of at least {@code bytes}, limit {@code bytes}, for one input. ONNX Runtime
   * reads a direct buffer in place; given a heap array it would copy it into a new direct buffer
   * per call, which is freed only by a GC, and that churn is what inflates RSS over long runs (see
   * docs/tuning.md). Buffers are kept for the next calls, sized to the next power of two so that
   * calls with other batch sizes can reuse them.
   */
  private java.nio.ByteBuffer takeBuffer(long bytes) {
    synchronized (spare) {
      java.nio.ByteBuffer best = null;
      for (java.nio.ByteBuffer b : spare) {
        if (b.capacity() >= bytes && (best == null || b.capacity() < best.capacity())) {
          best = b;
        }
      }
      if (best != null) {
        spare.remove(best);
        best.clear().limit((int) bytes);
        return best;
      }
    }
    if (bytes > Integer.MAX_VALUE - 64) {
      throw new FoleyException(FoleyException.Code.BACKEND_FAILURE, "stage " + spec.stage().key() + " input of "
          + bytes + " bytes is larger than one buffer can hold (2 GiB); use a smaller batch");
    }
    long rounded = Long.highestOneBit(Math.max(64, bytes - 1)) << 1;
    int capacity = (int) Math.min(rounded, Integer.MAX_VALUE - 64);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(capacity).order(java.nio.ByteOrder.nativeOrder());
    b.limit((int) bytes);
    return b;
  }

  private void giveBack(java.nio.ByteBuffer b) {
    synchronized (spare) {
      if (spare.size() >= maxSpare()) {
        java.nio.ByteBuffer smallest = b;
        for (java.nio.ByteBuffer s : spare) {
          if (s.capacity() < smallest.capacity()) {
            smallest = s;
          }
        }
        if (smallest == b) {
          return; // the GC frees it
        }
        spare.remove(smallest);
      }
      spare.push(b);
    }
  }

  private static Map<String, Tensor> copyOut(OrtSession.Result r) throws OrtException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, OnnxValue> e : r) {
      OnnxTensor ot = (OnnxTensor) e.getValue();
      ai.onnxruntime.OnnxJavaType type = ot.getInfo().type;
      if (type == ai.onnxruntime.OnnxJavaType.FLOAT16 || type == ai.onnxruntime.OnnxJavaType.BFLOAT16) {
        float[] data = HalfFloats.toFloat(ot.getShortBuffer(), type == ai.onnxruntime.OnnxJavaType.BFLOAT16);
        out.put(e.getKey(), Tensor.of(data, ot.getInfo().getShape()));
        continue;
      }
      FloatBuffer fb = ot.getFloatBuffer(); // a fresh heap copy: take its array when it is exactly the data
      float[] data;
      if (fb.hasArray() && fb.arrayOffset() == 0 && fb.position() == 0 && fb.array().length == fb.remaining()) {
        data = fb.array();
      } else {
        data = new float[fb.remaining()];
        fb.get(data);
      }
      out.put(e.getKey(), Tensor.of(data, ot.getInfo().getShape()));
    }
    return out;
  }

  @Override
  public void terminateRunning() {
    synchronized (terminateLock) {
      if (running != null) {
        try {
          running.setTerminate(true);
        } catch (OrtException e) {
          warnNotTerminated(e);
        }
      }
    }
  }

  private static void warnNotTerminated(Exception e) {
    System.getLogger("io.foley4j.backend").log(System.Logger.Level.WARNING, "could not terminate a running call: " + e);
  }

  @Override
  public long runNanos() {
    return runNanos.get();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      closeQuietly(session);
      held.values().forEach(h -> h.tensor.close()); // no call runs now (see StageSession)
      held.clear();
      synchronized (spare) {
        spare.clear();
      }
    }
  }

  private static void closeQuietly(OrtSession s) {
    if (s != null) {
      try {
        s.close();
      } catch (OrtException | RuntimeException e) {
        System.getLogger("io.foley4j.backend").log(System.Logger.Level.WARNING, "closing an ONNX Runtime session failed: " + e);
      }
    }
  }
}
