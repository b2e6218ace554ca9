package io.foley4j.bundle;

/** The five ONNX stages of a Foley model bundle, with their manifest keys. */
public enum Stage {
  /** Video frames to visual features ({@code visual_encoder}). */
  VISUAL_ENCODER("visual_encoder"),
  /** Windows of video frames to sync tokens ({@code sync_encoder}). */
  SYNC_ENCODER("sync_encoder"),
  /** Token ids to text embeddings ({@code text_encoder}). */
  TEXT_ENCODER("text_encoder"),
  /** One step of the flow-matching sampler: latents and conditions to a velocity ({@code denoiser}). */
  DENOISER("denoiser"),
  /** Latents to audio samples ({@code vae_decoder}). */
  VAE_DECODER("vae_decoder");

  private final String key;

  Stage(String key) {
    this.key = key;
  }

  /** The key of this stage in {@code foley-bundle.json} ("visual_encoder", ...). */
  public String key() {
    return key;
  }
}
