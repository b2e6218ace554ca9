package io.foley4j.reference;

import io.foley4j.FoleyException;
import io.foley4j.bundle.ModelBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The built-in procedural reference model: writes a complete model bundle (format v1) whose five
 * ONNX stages have exactly the input/output contract of a real HunyuanVideo-Foley export, but whose
 * weights are generated from a seed. Motion between sync frames makes sound at that moment, the
 * prompt's words pick the timbre ("glass" high, "thunder" low), and a still video stays exactly
 * silent. A width/depth knob adds real layers so benchmarks can give it realistic cost.
 *
 * <pre>{@code
 * ReferenceModel.writeBundle(dir, ReferenceModel.options().width(1024).depth(4).build());
 * }</pre>
 *
 * <p>Output is deterministic: the same options always produce byte-identical files.
 */
public final class ReferenceModel {

  private ReferenceModel() {}

  /** A builder for reference-model options, starting from {@link #defaults()}. */
  public static Options.Builder options() {
    return new Options.Builder();
  }

  /** The default options (width 64, depth 1, D 768, C 128, 512/224 px, 8 s segments, seed 0). */
  public static Options defaults() {
    return new Options.Builder().build();
  }

  /**
   * Writes the reference bundle into {@code dir} (created if needed): the five stage ONNX files,
   * {@code tokenizer.json}, {@code unconditional.safetensors} and the manifest
   * {@code foley-bundle.json}. Existing files of the same names are replaced.
   *
   * @throws FoleyException with code {@code IO} if a file cannot be written
   */
  public static void writeBundle(Path dir, Options options) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(options, "options");
    BundleWriter.write(dir, options);
  }

  /**
   * Writes the default reference bundle into a new temporary directory and opens it. Closing the
   * returned bundle deletes the directory. Takes a fraction of a second; nothing is downloaded.
   */
  public static ModelBundle bundle() {
    return bundle(defaults());
  }

  /** Like {@link #bundle()} with the given options. */
  public static ModelBundle bundle(Options options) {
    Objects.requireNonNull(options, "options");
    Path dir;
    try {
      dir = Files.createTempDirectory("foley4j-reference-");
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot create a temporary directory for the reference bundle: " + e, e);
    }
    try {
      BundleWriter.write(dir, options);
      return ModelBundle.openOwned(dir);
    } catch (RuntimeException e) {
      ModelBundle.deleteQuietly(dir);
      throw e;
    }
  }

  /**
   * Element type of the stages' float inputs and outputs. The graphs compute in float32 either way;
   * with {@link #FLOAT16} or {@link #BFLOAT16} each float input is cast from that type on entry and
   * each float output cast to it on exit, and the manifest (format v2) declares those tensors so:
   * the bundle exercises a backend's conversion at the boundary (docs/bundle-format.md, "Tensor
   * declarations") exactly as a half-precision export would, with the rounding a half boundary brings.
   */
  public enum Precision {
    FLOAT32("float32"),
    FLOAT16("float16"),
    BFLOAT16("bfloat16");

    private final String dtype;

    Precision(String dtype) {
      this.dtype = dtype;
    }

    /** The manifest's dtype name: {@code float32}, {@code float16} or {@code bfloat16}. */
    public String dtype() {
      return dtype;
    }
  }

  /** Immutable, validated options of the reference model. Build with {@link ReferenceModel#options()}. */
  public static final class Options {
    private final int width;
    private final int depth;
    private final int embedDim;
    private final int latentChannels;
    private final int visualSize;
    private final int syncSize;
    private final double segmentSeconds;
    private final double overlapSeconds;
    private final long seed;
    private final int denoiserWidth;
    private final int denoiserDepth;
    private final boolean externalData;
    private final Precision precision;

    private Options(Builder b) {
      this.width = b.width;
      this.depth = b.depth;
      this.embedDim = b.embedDim;
      this.latentChannels = b.latentChannels;
      this.visualSize = b.visualSize;
      this.syncSize = b.syncSize;
      this.segmentSeconds = b.segmentSeconds;
      this.overlapSeconds = b.overlapSeconds;
      this.seed = b.seed;
      this.denoiserWidth = b.denoiserWidth; // 0: same as width
      this.denoiserDepth = b.denoiserDepth; // 0: same as depth
      this.externalData = b.externalData;
      this.precision = b.precision;
    }

    /**
     * Element type of the stages' float inputs and outputs (default {@link Precision#FLOAT32});
     * anything else writes bundle format v2.
     */
    public Precision precision() {
      return precision;
    }

    /**
     * Whether the denoiser keeps its weights in an ONNX external-data file beside it (bundle
     * format v2), as a real denoiser over 2 GB must; default false.
     */
    public boolean externalData() {
      return externalData;
    }

    /** Hidden width of the denoiser's cost layers (default: {@link #width()}). */
    public int denoiserWidth() {
      return denoiserWidth == 0 ? width : denoiserWidth;
    }

    /** Hidden cost layers of the denoiser (default: {@link #depth()}). */
    public int denoiserDepth() {
      return denoiserDepth == 0 ? depth : denoiserDepth;
    }

    /** Hidden width of the cost layers. */
    public int width() {
      return width;
    }

    /** Number of hidden cost layers per stage. */
    public int depth() {
      return depth;
    }

    /** Feature width D of the visual, sync and text streams. */
    public int embedDim() {
      return embedDim;
    }

    /** Latent channels C. */
    public int latentChannels() {
      return latentChannels;
    }

    /** Side of the square visual-encoder input in pixels. */
    public int visualSize() {
      return visualSize;
    }

    /** Side of the square sync-encoder input in pixels. */
    public int syncSize() {
      return syncSize;
    }

    /** Segment length in seconds (a whole number). */
    public double segmentSeconds() {
      return segmentSeconds;
    }

    /** Overlap between consecutive segments in seconds. */
    public double overlapSeconds() {
      return overlapSeconds;
    }

    /** Seed of the generated weights. */
    public long seed() {
      return seed;
    }

    /** A builder initialised with these options. */
    public Builder toBuilder() {
      return new Builder()
          .width(width)
          .depth(depth)
          .embedDim(embedDim)
          .latentChannels(latentChannels)
          .visualSize(visualSize)
          .syncSize(syncSize)
          .segmentSeconds(segmentSeconds)
          .overlapSeconds(overlapSeconds)
          .seed(seed)
          .denoiserSizeOrDefault(denoiserWidth, denoiserDepth)
          .externalData(externalData)
          .precision(precision);
    }

    // Derived sizes (package-private).
    int visualFrames() {
      return (int) Math.round(segmentSeconds * BundleWriter.VISUAL_FPS);
    }

    int syncFrames() {
      return (int) Math.round(segmentSeconds * BundleWriter.SYNC_FPS);
    }

    int syncWindows() {
      return (syncFrames() - BundleWriter.SYNC_WINDOW) / BundleWriter.SYNC_STRIDE + 1;
    }

    int syncTokens() {
      return syncWindows() * BundleWriter.TOKENS_PER_WINDOW;
    }

    int latentLength() {
      return (int) Math.round(segmentSeconds * BundleWriter.LATENT_RATE);
    }

    int samples() {
      return latentLength() * BundleWriter.SAMPLES_PER_LATENT;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Options other
          && width == other.width
          && depth == other.depth
          && embedDim == other.embedDim
          && latentChannels == other.latentChannels
          && visualSize == other.visualSize
          && syncSize == other.syncSize
          && Double.compare(segmentSeconds, other.segmentSeconds) == 0
          && Double.compare(overlapSeconds, other.overlapSeconds) == 0
          && seed == other.seed
          && denoiserWidth == other.denoiserWidth
          && denoiserDepth == other.denoiserDepth
          && externalData == other.externalData
          && precision == other.precision;
    }

    @Override
    public int hashCode() {
      return Objects.hash(width, depth, embedDim, latentChannels, visualSize, syncSize, segmentSeconds, overlapSeconds, seed,
          denoiserWidth, denoiserDepth, externalData, precision);
    }

    @Override
    public String toString() {
      return "Options{width=" + width + ", depth=" + depth + ", embedDim=" + embedDim
          + ", latentChannels=" + latentChannels + ", visualSize=" + visualSize + ", syncSize=" + syncSize
          + ", segmentSeconds=" + segmentSeconds + ", overlapSeconds=" + overlapSeconds + ", seed=" + seed
          + ", denoiserWidth=" + denoiserWidth() + ", denoiserDepth=" + denoiserDepth()
          + ", externalData=" + externalData + ", precision=" + precision + "}";
    }

    /**
     * Builder of {@link Options}. Every setter checks its argument and throws
     * {@link IllegalArgumentException} with the reason; {@link #build()} checks the combination
     * and never changes the builder.
     */
    public static final class Builder {
      private int width = 64;
      private int depth = 1;
      private int embedDim = 768;
      private int latentChannels = 128;
      private int visualSize = 512;
      private int syncSize = 224;
      private double segmentSeconds = 8.0;
      private double overlapSeconds = 1.0;
      private long seed;
      private int denoiserWidth;
      private int denoiserDepth;
      private boolean externalData;
      private Precision precision = Precision.FLOAT32;

      private Builder() {}

      /**
       * Element type of the stages' float inputs and outputs (default float32). FLOAT16 or
       * BFLOAT16 writes a half-precision boundary (format v2); the int64 token inputs stay int64.
       */
      public Builder precision(Precision precision) {
        this.precision = Objects.requireNonNull(precision, "precision");
        return this;
      }

      /** Writes the denoiser's weights as ONNX external data (bundle format v2); default false. */
      public Builder externalData(boolean enabled) {
        this.externalData = enabled;
        return this;
      }

      /**
       * Width and depth of the denoiser's cost layers alone (default: {@link #width} and
       * {@link #depth}). A real MM-DiT costs far more than its encoders; benchmarks use this to
       * give the reference model that profile.
       */
      public Builder denoiserSize(int width, int depth) {
        this.denoiserWidth = range("denoiser width", width, 1, 8192);
        this.denoiserDepth = range("denoiser depth", depth, 1, 32);
        return this;
      }

      private Builder denoiserSizeOrDefault(int width, int depth) {
        this.denoiserWidth = width;
        this.denoiserDepth = depth;
        return this;
      }

      /** Hidden width of the cost layers, 1..8192 (default 64). */
      public Builder width(int width) {
        this.width = range("width", width, 1, 8192);
        return this;
      }

      /** Hidden cost layers per stage, 1..32 (default 1). */
      public Builder depth(int depth) {
        this.depth = range("depth", depth, 1, 32);
        return this;
      }

      /** Feature width D, 8..8192 (default 768). */
      public Builder embedDim(int embedDim) {
        this.embedDim = range("embedDim", embedDim, 8, 8192);
        return this;
      }

      /** Latent channels C, 2..1024 (default 128). */
      public Builder latentChannels(int latentChannels) {
        this.latentChannels = range("latentChannels", latentChannels, 2, 1024);
        return this;
      }

      /** Visual input size in pixels, a multiple of 32 in 32..2048 (default 512). */
      public Builder visualSize(int visualSize) {
        this.visualSize = multipleOf32("visualSize", range("visualSize", visualSize, 32, 2048));
        return this;
      }

      /** Sync input size in pixels, a multiple of 32 in 32..1024 (default 224). */
      public Builder syncSize(int syncSize) {
        this.syncSize = multipleOf32("syncSize", range("syncSize", syncSize, 32, 1024));
        return this;
      }

      /**
       * Segment length: a whole number of seconds in 1..60 (default 8), so that both the 8 fps visual
       * and the 25 fps sync frame counts are integers.
       */
      public Builder segmentSeconds(double segmentSeconds) {
        if (!Double.isFinite(segmentSeconds) || segmentSeconds < 1 || segmentSeconds > 60
            || segmentSeconds != Math.rint(segmentSeconds)) {
          throw new IllegalArgumentException(
              "segmentSeconds must be a whole number of seconds in 1..60 (8 fps and 25 fps frame counts"
                  + " must be integers), got " + segmentSeconds);
        }
        this.segmentSeconds = segmentSeconds;
        return this;
      }

      /** Overlap between segments in seconds, ≥ 0 and a multiple of 1/50 s (default 1); must be below the segment length. */
      public Builder overlapSeconds(double overlapSeconds) {
        if (!Double.isFinite(overlapSeconds) || overlapSeconds < 0) {
          throw new IllegalArgumentException("overlapSeconds must be finite and not negative, got " + overlapSeconds);
        }
        double latents = overlapSeconds * BundleWriter.LATENT_RATE;
        if (Math.abs(latents - Math.rint(latents)) > 1e-9) {
          throw new IllegalArgumentException("overlapSeconds must be a multiple of 0.02 s (one latent), got " + overlapSeconds);
        }
        this.overlapSeconds = overlapSeconds;
        return this;
      }

      /** Seed of the generated weights (default 0). */
      public Builder seed(long seed) {
        this.seed = seed;
        return this;
      }

      /** Checks the combination and returns immutable options. */
      public Options build() {
        if (overlapSeconds >= segmentSeconds) {
          throw new IllegalArgumentException(
              "overlapSeconds (" + overlapSeconds + ") must be less than segmentSeconds (" + segmentSeconds + ")");
        }
        return new Options(this);
      }

      private static int range(String name, int value, int min, int max) {
        if (value < min || value > max) {
          throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ", got " + value);
        }
        return value;
      }

      private static int multipleOf32(String name, int value) {
        if (value % 32 != 0) {
          throw new IllegalArgumentException(name + " must be a multiple of 32 (the patch size), got " + value);
        }
        return value;
      }
    }
  }
}
