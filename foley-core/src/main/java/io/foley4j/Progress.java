package io.foley4j;

/**
 * How far a job has come: denoiser steps done out of all steps of all segments, plus segments whose
 * audio is final. Immutable.
 */
public record Progress(int segmentsDone, int segmentsTotal, long stepsDone, long stepsTotal) {
  /** Fraction in [0, 1]. */
  public double fraction() {
    return stepsTotal == 0 ? 1.0 : Math.min(1.0, stepsDone / (double) stepsTotal);
  }
}
