package io.foley4j.cli;

import io.foley4j.FoleyException;
import io.foley4j.InitialNoise;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley noise}: the initial noise of one pass ({@link InitialNoise}) as a NumPy .npy file, for
 * running another implementation of the model from the same starting point (docs/export.md,
 * "HVF's own pipeline against foley4j").
 */
@Command(name = "noise", mixinStandardHelpOptions = true,
    description = "Write the Gaussian noise a pass starts from (float32 [channels, latents], .npy): what"
        + " 'generate --seed S' draws for pass K (0 for a clip that fits one pass; variant i uses seed S + i).")
final class NoiseCommand implements Callable<Integer> {
  @Option(names = "--seed", required = true, description = "The request's seed.")
  long seed;

  @Option(names = "--pass", defaultValue = "0", description = "Pass number, 0 first (default ${DEFAULT-VALUE}).")
  int pass;

  @Option(names = "--channels", required = true, description = "Latent channels (the bundle's latent.channels).")
  int channels;

  @Option(names = "--latents", required = true, description = "Latents of the pass (its length on the latent axis).")
  int latents;

  @Option(names = "--out", required = true, description = "The .npy file to write.")
  Path out;

  @Override
  public Integer call() {
    long bytes = 4L * Math.max(0, channels) * Math.max(0, latents);
    long heap = Runtime.getRuntime().maxMemory();
    if (bytes > heap / 2) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--channels " + channels + " x --latents "
          + latents + " is " + (bytes >> 20) + " MiB of noise, more than half of this JVM's heap (" + (heap >> 20)
          + " MiB): give the bundle's latent channels and a pass's latents, or a larger -Xmx");
    }
    float[] x = InitialNoise.of(seed, pass, channels, latents);
    try {
      write(out, x, channels, latents);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot write " + out + ": " + IoErrors.describe(e), e);
    }
    return 0;
  }

  /** NumPy format 1.0: magic, version, header length, a dict header padded to 64 bytes, then the data. */
  static void write(Path file, float[] data, int rows, int cols) throws IOException {
    String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    int pad = (64 - (10 + header.length() + 1) % 64) % 64;
    byte[] h = (header + " ".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
    ByteBuffer head = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    head.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) h.length);
    ByteBuffer body = ByteBuffer.allocate(4 << 16).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream o = Files.newOutputStream(file)) {
      o.write(head.array());
      o.write(h);
      for (int i = 0; i < data.length; i += 1 << 16) { // in blocks: any length a float[] can have
        int n = Math.min(1 << 16, data.length - i);
        body.clear();
        body.asFloatBuffer().put(data, i, n);
        o.write(body.array(), 0, 4 * n);
      }
    }
  }
}
