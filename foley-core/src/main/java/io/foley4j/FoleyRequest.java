package io.foley4j;

import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * What to generate: a video file and a prompt, plus optional sampler settings. Options left unset
 * take the bundle's defaults (steps, guidance scale, negative prompt). Immutable; build with
 * {@link #of(Path, String)} or {@link #builder(Path)}.
 */
public final class FoleyRequest {
  private final Path video;
  private final String prompt;
  private final String negativePrompt;
  private final int steps;
  private final double cfgScale;
  private final long seed;
  private final Priority priority;
  private final java.time.Duration deadline;
  private final String clientId;

  private FoleyRequest(Builder b) {
    this.video = b.video;
    this.prompt = b.prompt;
    this.negativePrompt = b.negativePrompt;
    this.steps = b.steps;
    this.cfgScale = b.cfgScale;
    this.seed = b.seed;
    this.priority = b.priority == null ? Priority.NORMAL : b.priority;
    this.deadline = b.deadline;
    this.clientId = b.clientId;
  }

  /** A request with the bundle's default settings and seed 0. */
  public static FoleyRequest of(Path video, String prompt) {
    return builder(video).prompt(prompt).build();
  }

  public static Builder builder(Path video) {
    return new Builder(video);
  }

  public Path video() {
    return video;
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

  /** Seed of the initial noise. */
  public long seed() {
    return seed;
  }

  /** Scheduling priority (default NORMAL). */
  public Priority priority() {
    return priority;
  }

  /** How long after submission the request may take before it fails with DEADLINE_EXCEEDED, if set. */
  public java.util.Optional<java.time.Duration> deadline() {
    return java.util.Optional.ofNullable(deadline);
  }

  /** Who sent the request, for per-client rate limits; null if not set. */
  public String clientId() {
    return clientId;
  }

  @Override
  public String toString() {
    return "FoleyRequest[" + video + ", \"" + prompt + "\", seed " + seed + "]";
  }

  /** Builder; each option may be set once. */
  public static final class Builder {
    private final Path video;
    private String prompt;
    private String negativePrompt;
    private int steps;
    private double cfgScale = Double.NaN;
    private long seed;
    private boolean seedSet;
    private Priority priority;
    private java.time.Duration deadline;
    private String clientId;

    private Builder(Path video) {
      this.video = Objects.requireNonNull(video, "video");
    }

    /** The description of the sound (may be empty). */
    public Builder prompt(String prompt) {
      if (this.prompt != null) {
        throw new IllegalStateException("prompt was already set to \"" + this.prompt + "\"");
      }
      this.prompt = Objects.requireNonNull(prompt, "prompt");
      return this;
    }

    /** What the sound should not be like; default: the bundle's ("noisy, harsh" for HunyuanVideo-Foley). */
    public Builder negativePrompt(String negativePrompt) {
      if (this.negativePrompt != null) {
        throw new IllegalStateException("negativePrompt was already set to \"" + this.negativePrompt + "\"");
      }
      this.negativePrompt = Objects.requireNonNull(negativePrompt, "negativePrompt");
      return this;
    }

    /** Number of Euler steps, 1..1000. */
    public Builder steps(int steps) {
      if (this.steps != 0) {
        throw new IllegalStateException("steps was already set to " + this.steps);
      }
      if (steps < 1 || steps > 1000) {
        throw new IllegalArgumentException("steps must be between 1 and 1000, was " + steps);
      }
      this.steps = steps;
      return this;
    }

    /** Classifier-free guidance scale, finite and in [0, 100]; 1 means no guidance. */
    public Builder cfgScale(double scale) {
      if (!Double.isNaN(this.cfgScale)) {
        throw new IllegalStateException("cfgScale was already set to " + this.cfgScale);
      }
      if (!(scale >= 0 && scale <= 100)) {
        throw new IllegalArgumentException("cfgScale must be between 0 and 100, was " + scale);
      }
      this.cfgScale = scale;
      return this;
    }

    /** Seed of the initial noise (default 0): the same seed gives the same samples. */
    public Builder seed(long seed) {
      if (seedSet) {
        throw new IllegalStateException("seed was already set to " + this.seed);
      }
      this.seed = seed;
      this.seedSet = true;
      return this;
    }

    /** Scheduling priority: HIGH runs before NORMAL before LOW (default NORMAL). */
    public Builder priority(Priority priority) {
      if (this.priority != null) {
        throw new IllegalStateException("priority was already set to " + this.priority);
      }
      this.priority = Objects.requireNonNull(priority, "priority");
      return this;
    }

    /**
     * A time budget from submission: past it the job fails with DEADLINE_EXCEEDED at the next step
     * boundary and frees its slots.
     */
    public Builder deadline(java.time.Duration deadline) {
      if (this.deadline != null) {
        throw new IllegalStateException("deadline was already set to " + this.deadline);
      }
      Objects.requireNonNull(deadline, "deadline");
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("deadline must be positive, was " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /** The client this request is for; the engine's per-client rate limit applies to it. */
    public Builder clientId(String clientId) {
      if (this.clientId != null) {
        throw new IllegalStateException("clientId was already set to \"" + this.clientId + "\"");
      }
      Objects.requireNonNull(clientId, "clientId");
      if (clientId.isEmpty() || clientId.length() > 256) {
        throw new IllegalArgumentException("clientId must be 1-256 characters");
      }
      this.clientId = clientId;
      return this;
    }

    public FoleyRequest build() {
      if (prompt == null) {
        throw new IllegalStateException("prompt is required (use \"\" for none)");
      }
      return new FoleyRequest(this);
    }
  }
}
