package io.foley4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.InitialNoise;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NoiseCommandTest {
  @TempDir
  Path dir;

  @Test
  void writesThePassNoiseAsNpy() throws Exception {
    Path f = dir.resolve("noise.npy");
    CliOutput r = CliOutput.of("noise", "--seed", "42", "--pass", "1", "--channels", "3", "--latents", "30001",
        "--out", f.toString()); // 90 003 floats: more than one block of the writer
    assertEquals(0, r.rc(), r.err());
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[6];
    b.get(magic);
    assertEquals("\u0093NUMPY", new String(magic, StandardCharsets.ISO_8859_1));
    assertEquals(1, b.get());
    assertEquals(0, b.get());
    int headerLength = b.getShort();
    assertEquals(0, (10 + headerLength) % 64, "data aligned to 64 bytes");
    byte[] header = new byte[headerLength];
    b.get(header);
    String h = new String(header, StandardCharsets.US_ASCII);
    assertTrue(h.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 30001), }"), h);
    assertTrue(h.endsWith("\n"), h);
    float[] want = InitialNoise.of(42, 1, 3, 30001);
    assertEquals(want.length * 4, b.remaining());
    for (float w : want) {
      assertEquals(w, b.getFloat());
    }
  }

  @Test
  void badShapeIsAnInvalidArgumentWithItsValues() {
    CliOutput r = CliOutput.of("noise", "--seed", "1", "--channels", "0", "--latents", "7",
        "--out", dir.resolve("x.npy").toString());
    assertEquals(2, r.rc());
    assertTrue(r.err().contains("channels 0"), r.err());
    assertFalse(Files.exists(dir.resolve("x.npy")));
  }

  @Test
  void unwritableOutputIsAnIoError() {
    CliOutput r = CliOutput.of("noise", "--seed", "1", "--channels", "2", "--latents", "2",
        "--out", dir.resolve("missing-dir").resolve("x.npy").toString());
    assertEquals(1, r.rc());
    assertTrue(r.err().contains("cannot write") && r.err().contains("no such file or directory"), r.err());
  }

  @Test
  void noiseLargerThanTheHeapCanHoldIsRefusedWithItsSize() {
    long heapMiB = Runtime.getRuntime().maxMemory() >> 20;
    int latents = (int) Math.min(Integer.MAX_VALUE / 128, heapMiB * 1024 * 1024 / 128 / 4 + 1024);
    CliOutput r = CliOutput.of("noise", "--seed", "1", "--channels", "128", "--latents", String.valueOf(latents),
        "--out", dir.resolve("big.npy").toString());
    assertEquals(2, r.rc(), r.err());
    assertTrue(r.err().contains("MiB of noise") && r.err().contains("-Xmx"), r.err());
    assertFalse(r.err().contains("Exception"), r.err());
    assertFalse(Files.exists(dir.resolve("big.npy")));
  }
}
