package io.foley4j.bundle;

/** The five ONNX stages of a Foley model bundle, with their manifest keys. */
public enum Stage {
  VISUAL_ENCODER("visual_encoder"),
  SYNC_ENCODER("sync_encoder"),
  TEXT_ENCODER("text_encoder"),
  DENOISER("denoiser"),
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
