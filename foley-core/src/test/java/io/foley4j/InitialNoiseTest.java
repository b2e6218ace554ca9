package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class InitialNoiseTest {
  @Test
  void isTheNoiseTheSamplerStartsEachPassFrom() {
    // Sampler.sample draws pass k of variant v as noise(seed + v, k, channels * latents)
    assertArrayEquals(Sampler.noise(7, 0, 8 * 150), InitialNoise.of(7, 0, 8, 150));
    assertArrayEquals(Sampler.noise(-3, 2, 128 * 400), InitialNoise.of(-3, 2, 128, 400));
  }

  @Test
  void dependsOnSeedAndPassOnly() {
    float[] a = InitialNoise.of(11, 0, 4, 50);
    assertArrayEquals(a, InitialNoise.of(11, 0, 4, 50));
    assertFalse(Arrays.equals(a, InitialNoise.of(12, 0, 4, 50)));
    assertFalse(Arrays.equals(a, InitialNoise.of(11, 1, 4, 50)));
    // the shape only says how many values are drawn: a [4 x 50] latent is the first 200 of a [8 x 50] one
    assertArrayEquals(a, Arrays.copyOf(InitialNoise.of(11, 0, 8, 50), 200));
  }

  @Test
  void isStandardGaussian() {
    float[] x = InitialNoise.of(5, 0, 128, 1000);
    double mean = 0;
    double sq = 0;
    for (float v : x) {
      mean += v;
      sq += (double) v * v;
    }
    mean /= x.length;
    double var = sq / x.length - mean * mean;
    assertTrue(Math.abs(mean) < 0.01, "mean " + mean);
    assertTrue(Math.abs(var - 1) < 0.02, "variance " + var);
  }

  @Test
  void refusesImpossibleShapes() {
    for (int[] bad : new int[][] {{-1, 8, 10}, {0, 0, 10}, {0, 8, 0}, {0, 65536, 65536}}) {
      FoleyException e = assertThrows(FoleyException.class, () -> InitialNoise.of(1, bad[0], bad[1], bad[2]));
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    }
  }
}
