package io.foley4j;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.WorkingMemory;
import java.util.Optional;

/**
 * Device bytes one segment in flight holds (docs/scheduling.md, "Capacity and device memory"): the
 * larger of its denoiser call ({@code rows} rows: a CFG pair per variant when guided) and its VAE
 * decoder call ({@code variants} rows). Each call's bytes are the stage's declared working memory
 * ({@code workingMemory} in the manifest, measured by the export tool) at the segment's length and
 * rows; a stage without one falls back to its inputs and outputs × {@link #ACTIVATION_FACTOR}, which
 * knows nothing of the network's width or depth. A builder-given {@code perTrainedSegment} (the
 * {@code segmentMemoryBytes} the host measured for one request of one variant) replaces both,
 * scaled by the segment's latents over the trained segment's and charged once per variant.
 */
final class SegmentMemory {
  private SegmentMemory() {}

  /** Activations per byte of a call's inputs and outputs, for a stage without a working memory. */
  static final long ACTIVATION_FACTOR = 16;

  static long bytes(BundleManifest m, SegmentPlan.Segment seg, int rows, int variants, long perTrainedSegment) {
    if (perTrainedSegment > 0) {
      return Math.max(1, Math.round(variants * perTrainedSegment * (seg.latents() / (double) m.segment().latents())));
    }
    long latents = (long) m.latent().channels() * seg.latents();
    Optional<WorkingMemory> dw = m.stage(Stage.DENOISER).workingMemory();
    long denoiser = dw.isPresent() ? dw.get().bytesFor(rows, seg.latents())
        : 4 * ACTIVATION_FACTOR * rows * (2 * latents + 1 + (long) seg.visualFrames() * m.widths().visual()
            + (long) seg.syncTokens() * m.widths().sync() + (long) m.text().maxTokens() * m.widths().text());
    Optional<WorkingMemory> vw = m.stage(Stage.VAE_DECODER).workingMemory();
    long vae = vw.isPresent() ? vw.get().bytesFor(variants, seg.latents())
        : 4 * ACTIVATION_FACTOR * variants * (latents + seg.decodedSamples());
    return Math.max(1, Math.max(denoiser, vae));
  }
}
