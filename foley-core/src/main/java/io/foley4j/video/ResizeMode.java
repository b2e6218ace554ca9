package io.foley4j.video;

/** How {@link DecodedFrame#toTensor} maps a frame onto a square. */
public enum ResizeMode {
  /** The whole frame is scaled to size×size, ignoring the aspect ratio (like SigLIP). */
  SQUASH,
  /** The shorter side is scaled to size and the centre size×size square is kept (Synchformer). */
  CENTER_CROP
}
