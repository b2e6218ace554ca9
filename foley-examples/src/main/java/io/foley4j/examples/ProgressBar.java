package io.foley4j.examples;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyListener;
import io.foley4j.Progress;
import java.io.PrintStream;

/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
final class ProgressBar implements FoleyListener {
  private final PrintStream err;
  private final long start = System.nanoTime();
  private long lastDraw;
  private int chunks;

  ProgressBar(PrintStream err) {
    this.err = err;
  }

  @Override
  public void onProgress(Progress p) {
    long now = System.nanoTime();
    if (now - lastDraw < 100_000_000L && p.fraction() < 1.0) {
      return;
    }
    lastDraw = now;
    int width = 30;
    int filled = (int) Math.round(p.fraction() * width);
    err.printf("\r[%s%s] %5.1f%%  segment %d/%d  %d chunk(s)  %.1fs ", "#".repeat(filled), " ".repeat(width - filled),
        p.fraction() * 100, Math.min(p.segmentsDone() + 1, p.segmentsTotal()), p.segmentsTotal(), chunks,
        (now - start) / 1e9);
    err.flush();
  }

  @Override
  public void onChunk(AudioChunk chunk) {
    chunks++;
  }

  void finish() {
    err.println();
  }
}
