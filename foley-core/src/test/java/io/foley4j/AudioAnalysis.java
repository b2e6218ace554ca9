package io.foley4j;

import java.util.ArrayList;
import java.util.List;

/** Measurements on generated audio for tests: onsets, RMS, spectral centroid. */
public final class AudioAnalysis {
  private AudioAnalysis() {}

  /**
   * Times (seconds) where the 5 ms peak envelope rises above {@code threshold} after at least
   * {@code minGapSeconds} below it.
   */
  public static List<Double> onsets(float[] x, int rate, double threshold, double minGapSeconds) {
    int win = rate / 200; // 5 ms
    List<Double> out = new ArrayList<>();
    int quietRun = Integer.MAX_VALUE / 2;
    int minGap = (int) Math.round(minGapSeconds * rate);
    for (int start = 0; start < x.length; start += win) {
      float peak = 0;
      int end = Math.min(x.length, start + win);
      int first = -1;
      for (int i = start; i < end; i++) {
        float a = Math.abs(x[i]);
        if (a > threshold && first < 0) {
          first = i;
        }
        peak = Math.max(peak, a);
      }
      if (peak > threshold) {
        if (quietRun >= minGap) {
          out.add(first / (double) rate);
        }
        quietRun = 0;
      } else {
        quietRun += end - start;
      }
    }
    return out;
  }

  public static double maxAbs(float[] x, int from, int to) {
    double m = 0;
    for (int i = Math.max(0, from); i < Math.min(x.length, to); i++) {
      m = Math.max(m, Math.abs(x[i]));
    }
    return m;
  }

  /** Power-weighted mean frequency (Hz) of {@code x[from, from + n)}, n a power of two, Hann window. */
  public static double spectralCentroid(float[] x, int from, int n, int rate) {
    double[] re = new double[n];
    double[] im = new double[n];
    for (int i = 0; i < n; i++) {
      double w = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / (n - 1));
      re[i] = (from + i < x.length ? x[from + i] : 0) * w;
    }
    fft(re, im);
    double num = 0;
    double den = 0;
    for (int k = 1; k < n / 2; k++) {
      double p = re[k] * re[k] + im[k] * im[k];
      num += p * k * rate / (double) n;
      den += p;
    }
    return den == 0 ? 0 : num / den;
  }

  /** In-place iterative radix-2 FFT. */
  static void fft(double[] re, double[] im) {
    int n = re.length;
    for (int i = 1, j = 0; i < n; i++) {
      int bit = n >> 1;
      for (; (j & bit) != 0; bit >>= 1) {
        j ^= bit;
      }
      j ^= bit;
      if (i < j) {
        double t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    for (int len = 2; len <= n; len <<= 1) {
      double ang = -2 * Math.PI / len;
      for (int i = 0; i < n; i += len) {
        for (int k = 0; k < len / 2; k++) {
          double c = Math.cos(ang * k);
          double s = Math.sin(ang * k);
          double ur = re[i + k];
          double ui = im[i + k];
          double vr = re[i + k + len / 2] * c - im[i + k + len / 2] * s;
          double vi = re[i + k + len / 2] * s + im[i + k + len / 2] * c;
          re[i + k] = ur + vr;
          im[i + k] = ui + vi;
          re[i + k + len / 2] = ur - vr;
          im[i + k + len / 2] = ui - vi;
        }
      }
    }
  }
}
