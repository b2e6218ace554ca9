package io.foley4j.video;

import java.util.Arrays;

/**
 * How {@link DecodedFrame#toTensor} resamples a frame. The manifest names them per stream
 * ({@code visual.filter}, {@code sync.filter}; docs/bundle-format.md).
 */
public enum ResizeFilter {
  /**
   * foley4j's original resampling: 2-tap bilinear straight from the YUV planes, no antialiasing,
   * in float; {@link ResizeMode#CENTER_CROP} takes the centre square of the frame and scales it.
   */
  BILINEAR_2TAP("bilinear-2tap"),
  /**
   * PIL's {@code Image.resize(..., BILINEAR)} of the 8-bit RGB frame ({@link DecodedFrame#toRgb}):
   * antialiased triangle filter (support 1 scaled by the downscale factor), 8-bit intermediate.
   */
  PIL_BILINEAR("pil-bilinear"),
  /** Like {@link #PIL_BILINEAR} with PIL's BICUBIC filter (a = -0.5, support 2 scaled). */
  PIL_BICUBIC("pil-bicubic"),
  /**
   * torchvision's {@code v2.Resize(..., BICUBIC)} (antialiased) of a uint8 tensor of the 8-bit RGB
   * frame, which is torch's {@code interpolate(mode="bicubic", antialias=True)} on uint8: the cubic
   * of {@link #PIL_BICUBIC} with int16 weights whose fixed-point precision is chosen per axis from
   * its largest weight (HunyuanVideo-Foley's Synchformer frames).
   */
  TORCH_BICUBIC("torch-bicubic");

  private final String manifestName;

  ResizeFilter(String manifestName) {
    this.manifestName = manifestName;
  }

  /** The name used in foley-bundle.json. */
  public String manifestName() {
    return manifestName;
  }

  /** The filter of a manifest name, or null if there is none of that name. */
  public static ResizeFilter fromManifestName(String name) {
    for (ResizeFilter f : values()) {
      if (f.manifestName.equals(name)) {
        return f;
      }
    }
    return null;
  }

  /** The manifest names of all filters, quoted, for messages. */
  public static String allowedNames() {
    return String.join(", ", Arrays.stream(values()).map(f -> "\"" + f.manifestName + "\"").toList());
  }
}
