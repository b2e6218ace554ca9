package io.foley4j;

/**
 * The Gaussian noise a request's passes start from, for checking foley4j against another
 * implementation of the same model (which must start from the same numbers to give the same audio).
 *
 * <p>Pass {@code k} of a request with seed {@code s} (variant i: seed s + i, see
 * {@link FoleyRequest#variantSeed(int)}) starts its latent [channels × latents] from
 * {@code of(s, k, channels, latents)}: a pure function of its arguments, the same on every machine
 * and backend. Passes are numbered from 0 in time order; a clip that fits one pass has pass 0 only.
 */
public final class InitialNoise {
  private InitialNoise() {}

  /**
   * The initial latent of pass {@code pass}, row-major [channels × latents] (channel c, latent t at
   * {@code c * latents + t}).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if {@code pass} is negative, a size is not
   *     positive, or channels × latents exceeds an array's size
   */
  public static float[] of(long seed, int pass, int channels, int latents) {
    if (pass < 0 || channels <= 0 || latents <= 0) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "initial noise needs pass >= 0 and positive"
          + " channels and latents, got pass " + pass + ", channels " + channels + ", latents " + latents);
    }
    long n = (long) channels * latents;
    if (n > Integer.MAX_VALUE - 8) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "initial noise of " + channels + " x " + latents
          + " values is more than one array holds");
    }
    return Sampler.noise(seed, pass, (int) n);
  }
}
