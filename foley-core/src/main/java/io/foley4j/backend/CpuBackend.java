package io.foley4j.backend;

import io.foley4j.bundle.StageSpec;
import java.nio.file.Path;

/**
 * The CPU backend on ONNX Runtime (the {@code onnxruntime} artifact). Immutable and thread-safe;
 * build one with {@link Backends#cpu()} or {@link #builder()}.
 *
 * <p>Each stage gets its own session with {@link Builder#intraOpThreads(int)} threads. An engine
 * runs one backend call at a time per backend, so the stages never oversubscribe the cores.
 */
public final class CpuBackend implements Backend {

  /** How much ONNX Runtime may rewrite the graph. */
  public enum Optimization { NONE, BASIC, EXTENDED, ALL }

  private final int intraOpThreads;
  private final Optimization optimization;
  private final boolean memoryArena;
  private final boolean arenaShrinkage;
  private final Path optimizedModelCache;

  private CpuBackend(Builder b) {
    this.intraOpThreads = b.intraOpThreads;
    this.optimization = b.optimization;
    this.memoryArena = b.memoryArena;
    this.arenaShrinkage = b.arenaShrinkage;
    this.optimizedModelCache = b.optimizedModelCache;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return "cpu";
  }

  /** Intra-op threads per session; 0 means ONNX Runtime's default (one per physical core). */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  public Optimization optimization() {
    return optimization;
  }

  /** Whether ONNX Runtime's CPU memory arena is used. */
  public boolean memoryArena() {
    return memoryArena;
  }

  /**
   * Whether the stages called once per segment (the encoders and the VAE decoder) give the arena's
   * free chunks back after each call (default true). Each session has its own arena, which otherwise
   * keeps its largest call's activations while the engine lives.
   */
  public boolean arenaShrinkage() {
    return arenaShrinkage;
  }

  /** The directory of the optimized-model cache, or empty when it is off (the default). */
  public java.util.Optional<Path> optimizedModelCache() {
    return java.util.Optional.ofNullable(optimizedModelCache);
  }

  @Override
  public StageSession open(StageSpec spec, Path modelFile) {
    return OrtStageSession.open(spec, modelFile, intraOpThreads, optimization, memoryArena, null, optimizedModelCache)
        .shrinkArenaAfterCalls(this);
  }

  @Override
  public String toString() {
    return "CpuBackend[intraOpThreads=" + (intraOpThreads == 0 ? "default" : intraOpThreads) + ", optimization="
        + optimization + (memoryArena ? "" : ", memoryArena=false") + (arenaShrinkage ? "" : ", arenaShrinkage=false")
        + (optimizedModelCache == null ? "" : ", optimizedModelCache=" + optimizedModelCache) + "]";
  }

  /** Options of the CPU backend; each may be set once. */
  public static final class Builder {
    private int intraOpThreads = -1;
    private Optimization optimization;
    private Boolean arena;
    private boolean memoryArena = true;
    private Boolean shrinkage;
    private boolean arenaShrinkage = true;
    private Path optimizedModelCache;

    private Builder() {}

    /**
     * Stores each stage's optimized graph in {@code dir} (created if missing) at the first build
     * and loads it from there at later builds, skipping ONNX Runtime's graph optimization. Files are
     * named by the stage file's SHA-256, the ONNX Runtime version and the optimization level, and
     * written atomically, so processes may share the directory. Off by default. The stored graph
     * may hold optimizations for this machine's CPU: share a directory only between machines of
     * the same kind.
     */
    public Builder optimizedModelCache(Path dir) {
      if (optimizedModelCache != null) {
        throw new IllegalStateException("optimizedModelCache was already set to " + optimizedModelCache);
      }
      java.util.Objects.requireNonNull(dir, "dir");
      try {
        java.nio.file.Files.createDirectories(dir);
      } catch (java.io.IOException e) {
        throw new io.foley4j.FoleyException(io.foley4j.FoleyException.Code.IO, "cannot create the optimized-model"
            + " cache directory " + dir + ": " + e, e);
      }
      this.optimizedModelCache = dir.toAbsolutePath();
      return this;
    }

    /** Threads each session uses inside one operator; 0 = ONNX Runtime's default. */
    public Builder intraOpThreads(int threads) {
      if (intraOpThreads != -1) {
        throw new IllegalStateException("intraOpThreads was already set to " + intraOpThreads);
      }
      if (threads < 0) {
        throw new IllegalArgumentException("intraOpThreads must not be negative, was " + threads);
      }
      this.intraOpThreads = threads;
      return this;
    }

    /** Graph optimization level (default ALL). */
    public Builder optimization(Optimization level) {
      if (optimization != null) {
        throw new IllegalStateException("optimization was already set to " + optimization);
      }
      this.optimization = java.util.Objects.requireNonNull(level, "level");
      return this;
    }

    /** Whether ONNX Runtime's CPU memory arena is used (default true; false lowers idle memory). */
    public Builder memoryArena(boolean enabled) {
      if (arena != null) {
        throw new IllegalStateException("memoryArena was already set to " + arena);
      }
      this.arena = enabled;
      this.memoryArena = enabled;
      return this;
    }

    /**
     * Whether the encoders and the VAE decoder give the memory arena's free chunks back after each
     * call (default true; ONNX Runtime's run option {@code memory.enable_memory_arena_shrinkage}).
     * Off, every stage's arena keeps its largest call's activations for the engine's life: measured
     * on an HVF-XL model set (encoders at the default batches), 2.6 GB more resident at the peak for
     * the same speed (docs/tuning.md, "Memory of a CPU node"). No effect without the arena.
     */
    public Builder arenaShrinkage(boolean enabled) {
      if (shrinkage != null) {
        throw new IllegalStateException("arenaShrinkage was already set to " + shrinkage);
      }
      this.shrinkage = enabled;
      this.arenaShrinkage = enabled;
      return this;
    }

    public CpuBackend build() {
      Builder copy = new Builder();
      copy.intraOpThreads = intraOpThreads < 0 ? 0 : intraOpThreads;
      copy.optimization = optimization == null ? Optimization.ALL : optimization;
      copy.memoryArena = memoryArena;
      copy.arenaShrinkage = arenaShrinkage;
      copy.optimizedModelCache = optimizedModelCache;
      return new CpuBackend(copy);
    }
  }
}
