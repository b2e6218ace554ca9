package io.foley4j.bundle;

import java.util.List;

/**
 * What {@link ModelBundle#verifyDeep()} checked, one line per file ("stage denoiser: denoiser.onnx
 * loads; inputs [...] and outputs [...] match the manifest"). Only a bundle that passed every check
 * gets one: a failed check throws instead.
 */
public record BundleVerification(String bundleName, String digest, List<String> checks) {
  /** Keeps an unmodifiable copy of {@code checks}. */
  public BundleVerification {
    checks = List.copyOf(checks);
  }
}
