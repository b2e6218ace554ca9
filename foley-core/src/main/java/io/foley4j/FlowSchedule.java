package io.foley4j;

/**
 * Time points of the flow-matching Euler sampler: t runs from 0 (noise) to 1 (data). With shift s
 * the noise level σ = 1 − t is warped as σ' = sσ / (1 + (s − 1)σ), spending more steps at high
 * noise when s &gt; 1, as in SD3-style flow models.
 */
final class FlowSchedule {
  private FlowSchedule() {}

  /** steps + 1 time points, t[0] = 0, t[steps] = 1. */
  static float[] times(int steps, double shift) {
    float[] t = new float[steps + 1];
    for (int i = 0; i <= steps; i++) {
      double sigma = 1.0 - i / (double) steps;
      double shifted = shift * sigma / (1 + (shift - 1) * sigma);
      t[i] = (float) (1.0 - shifted);
    }
    t[0] = 0f;
    t[steps] = 1f;
    return t;
  }
}
