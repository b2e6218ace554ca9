package io.foley4j;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * What to generate: a video and a prompt, plus optional sampler settings. Options left unset
 * take the bundle's defaults (steps, guidance scale, negative prompt). Immutable; build with
 * {@link #of(Path, String)} or {@link #builder(Path)}.
 *
 * <p>The video is a file ({@link #builder(Path)}) or comes from memory: bytes ({@link
 * #builder(byte[])}, {@link #builder(ByteBuffer)}, not copied: do not change them until the job is
 * done) or a stream ({@link #builder(InputStream)}, {@link #builder(ReadableByteChannel)}) that the
 * job reads once, to its end, into memory, up to {@link Builder#maxStreamBytes} (default {@link
 * #DEFAULT_MAX_STREAM_BYTES}), and closes. A request built on a stream can be submitted once. Bytes
 * give the same cache keys as a file with the same bytes. A video from memory has no file to
 * copy the video track from, so writing the video with its new sound (foley-jcodec's {@code
 * Mp4Outputs.writeVideoWithSound}) refuses it.
 */
public final class FoleyRequest {
  /**
   * The longest deadline a request may have (365 days). Longer ones are refused: in nanoseconds they
   * would overflow the engine's clock arithmetic; leave the deadline unset for none.
   */
  public static final java.time.Duration MAX_DEADLINE = java.time.Duration.ofDays(365);

  /**
   * The default bound on a stream's bytes (512 MiB): an MP4 needs random access, so a stream is held
   * in memory while its job runs; a longer one is refused with {@code INVALID_ARGUMENT}.
   */
  public static final long DEFAULT_MAX_STREAM_BYTES = 512L << 20;

  /** The largest bound a stream may have: one Java array. */
  public static final long MAX_STREAM_BYTES = Integer.MAX_VALUE - 16;

  /** The most variants one request may ask for ({@link Builder#variants}). */
  public static final int MAX_VARIANTS = 8;

  private final VideoInput video;
  private final String prompt;
  private final String negativePrompt;
  private final int steps;
  private final double cfgScale;
  private final long seed;
  private final Priority priority;
  private final java.time.Duration deadline;
  private final String clientId;
  private final int variants;
  private final boolean readWhole;

  private FoleyRequest(Builder b) {
    this.video = b.stream != null ? (b.stream instanceof InputStream in ? VideoInput.of(in, b.maxStreamBytes())
        : VideoInput.of((ReadableByteChannel) b.stream, b.maxStreamBytes())) : b.video;
    this.prompt = b.prompt;
    this.negativePrompt = b.negativePrompt;
    this.steps = b.steps;
    this.cfgScale = b.cfgScale;
    this.seed = b.seed;
    this.priority = b.priority == null ? Priority.NORMAL : b.priority;
    this.deadline = b.deadline;
    this.clientId = b.clientId;
    this.variants = b.variants == 0 ? 1 : b.variants;
    this.readWhole = b.readWhole;
  }

  /** A request with the bundle's default settings and seed 0. */
  public static FoleyRequest of(Path video, String prompt) {
    return builder(video).prompt(prompt).build();
  }

  /** A request for the video file at {@code video}. */
  public static Builder builder(Path video) {
    return new Builder(VideoInput.of(Builder.nonNull(video, "video", "give the path of the video file")), null);
  }

  /**
   * A request for a video held in memory (the whole file's bytes). The array is not copied: leave it
   * unchanged until the job is done.
   */
  public static Builder builder(byte[] video) {
    Builder.nonNull(video, "video", "give the bytes of the video file");
    return new Builder(VideoInput.of(ByteBuffer.wrap(video)), null);
  }

  /**
   * A request for the video in {@code video} from its position to its limit (heap or direct). The
   * buffer's position is not changed and its bytes are not copied: leave them unchanged until the
   * job is done.
   */
  public static Builder builder(ByteBuffer video) {
    Builder.nonNull(video, "video", "give a buffer holding the video file's bytes");
    return new Builder(VideoInput.of(video), null);
  }

  /**
   * A request for a video that arrives on a stream (an upload not on disk). The job reads it once,
   * into memory, hashing it as it arrives, and closes it; a stream longer than {@link
   * Builder#maxStreamBytes} fails the job with {@code INVALID_ARGUMENT}. Where the decoder and the
   * container allow it (foley-ffmpeg; an MP4 whose index comes first, fragmented MP4 or Matroska/WebM
   * that state their duration), the video is decoded <em>while it arrives</em>, and the first
   * segments are computed before the stream ends; otherwise (and with {@link Builder#readWhole()})
   * the stream is read to its end first. A job decoding while it reads looks up no cache and joins no
   * identical job (its content key is known only at the end), and stores its result under that key
   * once the stream ended; see docs/video.md, "Decoding while the bytes arrive". The
   * stream is read on a reader thread of the job's own ({@code foley-<engine>-stream-<job>}), and the
   * job checks its deadline and cancellation between chunks and at least every 20 ms: a slow or
   * endless stream fails the job with {@code DEADLINE_EXCEEDED} (or {@code CANCELLED}) promptly and
   * frees the engine's request thread. A read blocked inside a plain {@code InputStream} cannot be
   * interrupted in general, so the reader thread (a daemon, holding nothing of the engine's) lingers
   * until that read returns; give a network stream a read timeout, or a deadline to the request.
   */
  public static Builder builder(InputStream video) {
    return new Builder(null, Builder.nonNull(video, "video", "give the stream of the video file"));
  }

  /**
   * As {@link #builder(InputStream)}, for a channel. A blocking channel that is interruptible (a
   * socket or file channel, {@code Channels.newChannel}) is closed when the job stops; a non-blocking
   * one that returns 0 bytes is polled with a back-off of up to 20 ms, not spun on.
   */
  public static Builder builder(ReadableByteChannel video) {
    return new Builder(null, Builder.nonNull(video, "video", "give the channel of the video file"));
  }

  /** The video file, or null for a video from memory (see {@link #videoInMemory()}). */
  public Path video() {
    return video.path();
  }

  /** Whether the video comes from memory (bytes or a stream), not from a file. */
  public boolean videoInMemory() {
    return video.inMemory();
  }

  /** The bound on a stream's bytes; {@link #DEFAULT_MAX_STREAM_BYTES} unless set. */
  public long maxStreamBytes() {
    return video.isStream() ? video.maxStreamBytes() : DEFAULT_MAX_STREAM_BYTES;
  }

  VideoInput input() {
    return video;
  }

  /** Whether a stream is read to its end before it is decoded ({@link Builder#readWhole()}). */
  public boolean readWhole() {
    return readWhole;
  }

  public String prompt() {
    return prompt;
  }

  /** The negative prompt, or null for the bundle's default. */
  public String negativePrompt() {
    return negativePrompt;
  }

  /** Denoiser steps, if set. */
  public OptionalInt steps() {
    return steps > 0 ? OptionalInt.of(steps) : OptionalInt.empty();
  }

  /** Classifier-free guidance scale, if set. */
  public OptionalDouble cfgScale() {
    return Double.isNaN(cfgScale) ? OptionalDouble.empty() : OptionalDouble.of(cfgScale);
  }

  /** Seed of the initial noise (of variant 0; variant i uses {@link #variantSeed(int) seed + i}). */
  public long seed() {
    return seed;
  }

  /** How many variants of the sound to generate (1 unless set; see {@link Builder#variants}). */
  public int variants() {
    return variants;
  }

  /**
   * The seed of variant {@code i}: {@link #seed()} + i (wrapping as {@code long} arithmetic does). So
   * variant i is the audio of the same request with one variant and that seed, and variant 0 is the
   * request's own seed.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code i} is not in [0, variants())
   */
  public long variantSeed(int i) {
    if (i < 0 || i >= variants) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "variant " + i + " does not exist: the request has "
          + variants + " variant" + (variants == 1 ? "" : "s") + " (0 to " + (variants - 1) + ")");
    }
    return seed + i;
  }

  /** Scheduling priority (default NORMAL). */
  public Priority priority() {
    return priority;
  }

  /** How long after submission the request may take before it fails with DEADLINE_EXCEEDED, if set. */
  public java.util.Optional<java.time.Duration> deadline() {
    return java.util.Optional.ofNullable(deadline);
  }

  /**
   * The deadline in nanoseconds, or {@link Long#MAX_VALUE} if there is none. Never throws: a deadline
   * is at most {@link #MAX_DEADLINE}, so a monotonic clock reading plus this value cannot overflow
   * unless the clock itself is within a year of {@code Long.MAX_VALUE}; callers adding it to a clock
   * should still use {@link Math#addExact} or saturate.
   */
  public long deadlineNanos() {
    return deadline == null ? Long.MAX_VALUE : deadline.toNanos();
  }

  /** Who sent the request, for per-client rate limits; null if not set. */
  public String clientId() {
    return clientId;
  }

  @Override
  public String toString() {
    return "FoleyRequest[" + video.describe() + ", \"" + prompt + "\", seed " + seed
        + (variants > 1 ? ", " + variants + " variants" : "") + "]";
  }

  /** Builder; each option may be set once. Every check fails with {@link FoleyException.Code#INVALID_ARGUMENT}. */
  public static final class Builder {
    private final VideoInput video;
    private final Object stream; // an InputStream or ReadableByteChannel, wrapped at build()
    private long maxStreamBytes;
    private String prompt;
    private String negativePrompt;
    private int steps;
    private double cfgScale = Double.NaN;
    private long seed;
    private boolean seedSet;
    private Priority priority;
    private java.time.Duration deadline;
    private String clientId;
    private int variants;

    private boolean readWhole;

    private Builder(VideoInput video, Object stream) {
      this.video = video;
      this.stream = stream;
    }

    /**
     * For a video from a stream: the most bytes it may have (1 to {@link #MAX_STREAM_BYTES}; default
     * {@link #DEFAULT_MAX_STREAM_BYTES}). The whole stream is held in memory while the job runs; a
     * longer one fails the job with {@code INVALID_ARGUMENT}, and a file is the way to pass it.
     */
    public Builder maxStreamBytes(long maxBytes) {
      if (this.maxStreamBytes != 0) {
        throw alreadySet("maxStreamBytes", this.maxStreamBytes);
      }
      if (stream == null) {
        throw invalid("maxStreamBytes applies to a video from a stream only (builder(InputStream) or"
            + " builder(ReadableByteChannel)); a file or bytes are not buffered");
      }
      if (maxBytes < 1 || maxBytes > MAX_STREAM_BYTES) {
        throw invalid("maxStreamBytes must be between 1 and " + MAX_STREAM_BYTES + ", was " + maxBytes
            + "; pass a larger video as a file");
      }
      this.maxStreamBytes = maxBytes;
      return this;
    }

    private long maxStreamBytes() {
      return maxStreamBytes == 0 ? DEFAULT_MAX_STREAM_BYTES : maxStreamBytes;
    }

    /**
     * For a video from a stream: read it to its end before decoding it, as for a container that
     * needs its end, rather than decoding it while it arrives (the default where the decoder and the
     * container allow it). The job's content key is then known before anything runs, so it may be
     * answered by the result or feature cache or join an identical job in flight.
     */
    public Builder readWhole() {
      if (stream == null) {
        throw invalid("readWhole applies to a video from a stream only (builder(InputStream) or"
            + " builder(ReadableByteChannel)); a file or bytes are whole already");
      }
      this.readWhole = true;
      return this;
    }

    /** The description of the sound (may be empty). */
    public Builder prompt(String prompt) {
      if (this.prompt != null) {
        throw alreadySet("prompt", "\"" + this.prompt + "\"");
      }
      this.prompt = nonNull(prompt, "prompt", "use \"\" for no prompt");
      return this;
    }

    /** What the sound should not be like; default: the bundle's ("noisy, harsh" for HunyuanVideo-Foley). */
    public Builder negativePrompt(String negativePrompt) {
      if (this.negativePrompt != null) {
        throw alreadySet("negativePrompt", "\"" + this.negativePrompt + "\"");
      }
      this.negativePrompt = nonNull(negativePrompt, "negativePrompt",
          "leave it unset for the bundle's default, or use \"\" for none");
      return this;
    }

    /** Number of Euler steps, 1..1000. */
    public Builder steps(int steps) {
      if (this.steps != 0) {
        throw alreadySet("steps", this.steps);
      }
      if (steps < 1 || steps > 1000) {
        throw invalid("steps must be between 1 and 1000, was " + steps
            + "; leave it unset for the bundle's default (50 for HunyuanVideo-Foley)");
      }
      this.steps = steps;
      return this;
    }

    /** Classifier-free guidance scale, finite and in [0, 100]; 1 means no guidance. */
    public Builder cfgScale(double scale) {
      if (!Double.isNaN(this.cfgScale)) {
        throw alreadySet("cfgScale", this.cfgScale);
      }
      if (!(scale >= 0 && scale <= 100)) {
        throw invalid("cfgScale must be between 0 and 100, was " + scale
            + "; 1 means no guidance, leave it unset for the bundle's default");
      }
      this.cfgScale = scale;
      return this;
    }

    /** Seed of the initial noise (default 0): the same seed gives the same samples. */
    public Builder seed(long seed) {
      if (seedSet) {
        throw alreadySet("seed", this.seed);
      }
      this.seed = seed;
      this.seedSet = true;
      return this;
    }

    /**
     * How many variants of the sound to generate, 1 to {@link #MAX_VARIANTS} (default 1): the video is
     * decoded and encoded and the prompt encoded once, and the variants' denoiser rows run together
     * as one batch. Variant i uses seed {@code seed + i} and equals the same request with one variant
     * and that seed; the result has one audio per variant ({@link FoleyResult#variant(int)}) and each
     * chunk says its variant ({@link AudioChunk#variant()}).
     */
    public Builder variants(int n) {
      if (this.variants != 0) {
        throw alreadySet("variants", this.variants);
      }
      if (n < 1 || n > MAX_VARIANTS) {
        throw invalid("variants must be between 1 and " + MAX_VARIANTS + ", was " + n
            + "; for more, submit several requests with other seeds");
      }
      this.variants = n;
      return this;
    }

    /** Scheduling priority: HIGH runs before NORMAL before LOW (default NORMAL). */
    public Builder priority(Priority priority) {
      if (this.priority != null) {
        throw alreadySet("priority", this.priority);
      }
      this.priority = nonNull(priority, "priority", "use Priority.NORMAL or leave it unset");
      return this;
    }

    /**
     * A time budget from submission: past it the job fails with DEADLINE_EXCEEDED at the next step
     * boundary and frees its slots. Positive and at most {@link #MAX_DEADLINE}; for no deadline,
     * leave it unset.
     */
    public Builder deadline(java.time.Duration deadline) {
      if (this.deadline != null) {
        throw alreadySet("deadline", this.deadline);
      }
      nonNull(deadline, "deadline", "leave it unset for none");
      if (deadline.isNegative() || deadline.isZero()) {
        throw invalid("deadline must be positive, was " + deadline + "; leave it unset for none");
      }
      if (deadline.compareTo(MAX_DEADLINE) > 0) {
        throw invalid("deadline must be at most " + MAX_DEADLINE + " (" + MAX_DEADLINE.toDays() + " days), was "
            + deadline + "; for no deadline, leave it unset");
      }
      this.deadline = deadline;
      return this;
    }

    /** The client this request is for; the engine's per-client rate limit applies to it. */
    public Builder clientId(String clientId) {
      if (this.clientId != null) {
        throw alreadySet("clientId", "\"" + this.clientId + "\"");
      }
      nonNull(clientId, "clientId", "leave it unset if there is no client");
      if (clientId.isEmpty() || clientId.length() > 256) {
        throw invalid("clientId must be 1-256 characters, was " + clientId.length()
            + "; use a short stable name or hash of the client");
      }
      this.clientId = clientId;
      return this;
    }

    public FoleyRequest build() {
      if (prompt == null) {
        throw invalid("prompt is required (use \"\" for none)");
      }
      return new FoleyRequest(this);
    }

    private static FoleyException invalid(String message) {
      return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, message);
    }

    private static FoleyException alreadySet(String option, Object value) {
      return invalid(option + " was already set to " + value + "; set each option once");
    }

    private static <T> T nonNull(T value, String option, String what) {
      if (value == null) {
        throw invalid(option + " must not be null; " + what);
      }
      return value;
    }
  }
}
