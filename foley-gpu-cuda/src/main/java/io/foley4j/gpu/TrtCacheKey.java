package io.foley4j.gpu;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Where a stage's TensorRT engines and the timing cache live under the cache root. An engine is
 * only valid for the exact model, ONNX Runtime (and so TensorRT) build, GPU model, precision and
 * profiles it was built for, so all of them name its directory: a change in any one builds a new
 * engine instead of loading a wrong one. The timing cache (kernel timings, reusable across
 * models) depends only on the GPU model and the TensorRT version.
 *
 * @param stageSha256 the stage file's SHA-256 from the manifest (which the bundle digest covers)
 */
record TrtCacheKey(String stage, String stageSha256, String ortVersion, String gpuName, String computeCapability,
    String precision, String profiles, String tensorRtVersion) {

  /** {@code denoiser-3f2a9c1b0d4e-ort1.23.2-nvidia-a10g-sm86-fp16-p1a2b3c4d}. */
  String engineDirectory() {
    return stage + "-" + stageSha256.substring(0, Math.min(12, stageSha256.length())) + "-ort" + ortVersion + "-"
        + slug(gpuName) + "-sm" + computeCapability.replace(".", "") + "-" + precision + "-p" + sha256(profiles).substring(0, 8);
  }

  /** {@code timing-nvidia-a10g-sm86-trt10.6.0}. */
  String timingDirectory() {
    return "timing-" + slug(gpuName) + "-sm" + computeCapability.replace(".", "") + "-trt" + tensorRtVersion;
  }

  static String slug(String s) {
    String out = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    return out.isEmpty() ? "unknown-gpu" : out;
  }

  static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
