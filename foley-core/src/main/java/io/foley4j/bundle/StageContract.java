package io.foley4j.bundle;

/**
 * The tensor names of each stage, as bundle format v1 and v2 fix them (docs/bundle-format.md):
 * the one place the engine, the manifest check and the reference model's writer take them from.
 * Shapes and element types are in the manifest ({@link StageSpec}).
 */
public final class StageContract {
  private StageContract() {}

  /** {@link Stage#VISUAL_ENCODER}: frames at {@code visual.size}² in, one feature row per frame out. */
  public static final class Visual {
    /** [batch, 3, size, size] float, normalised pixels. */
    public static final String PIXELS = "pixels";
    /** [batch, visualDim] float. */
    public static final String FEATURES = "features";

    private Visual() {}
  }

  /** {@link Stage#SYNC_ENCODER}: windows of {@code sync.window} frames in, tokens per window out. */
  public static final class Sync {
    /** [batch, window, 3, size, size] float. */
    public static final String FRAMES = "frames";
    /** [batch, tokensPerWindow, syncDim] float. */
    public static final String TOKENS = "tokens";

    private Sync() {}
  }

  /** {@link Stage#TEXT_ENCODER}: token ids and mask in, hidden states out. */
  public static final class Text {
    /** [batch, tokens] int64. */
    public static final String INPUT_IDS = "input_ids";
    /** [batch, tokens] int64, 1 for real tokens. */
    public static final String ATTENTION_MASK = "attention_mask";
    /** [batch, tokens, textDim] float. */
    public static final String EMBEDS = "text_embeds";

    private Text() {}
  }

  /** {@link Stage#DENOISER}: one flow-matching step's velocity. */
  public static final class Denoiser {
    /** [batch, latentChannels, latents] float. */
    public static final String LATENTS = "latents";
    /** [batch] float, the flow time. */
    public static final String TIMESTEP = "timestep";
    /** [batch, visualFrames, visualDim] float. */
    public static final String VISUAL = "visual";
    /** [batch, syncTokens, syncDim] float. */
    public static final String SYNC = "sync";
    /** [batch, tokens, textDim] float. */
    public static final String TEXT = "text";
    /** [batch, latentChannels, latents] float. */
    public static final String VELOCITY = "velocity";

    private Denoiser() {}
  }

  /** {@link Stage#VAE_DECODER}: latents in, audio samples out. */
  public static final class Vae {
    /** [batch, latentChannels, latents] float. */
    public static final String LATENTS = "latents";
    /** [batch, samples] float. */
    public static final String AUDIO = "audio";

    private Vae() {}
  }
}
