package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.SystemPython;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .npz reader against files numpy writes. */
class NpzTest {
  private static final String WRITE = String.join("\n",
      "import sys, numpy as np",
      "a = dict(",
      "  f4=np.arange(6, dtype='<f4').reshape(2, 3) / 4,",
      "  f2=np.array([0.5, -2.0, 65504.0, 6e-8], dtype='<f2'),",
      "  f8=np.array([[1.25], [-3.5]], dtype='<f8'),",
      "  i8=np.array([-(2**40), 7], dtype='<i8'),",
      "  i4=np.array([-5, 2**31 - 1], dtype='<i4'),",
      "  u1=np.array([0, 255], dtype='u1'),",
      "  b=np.array([True, False]),",
      "  scalar=np.float32(3.0),",
      "  empty=np.zeros((0, 4), dtype='<f4'))",
      "np.savez(sys.argv[1], **a)",
      "np.savez_compressed(sys.argv[2], **a)",
      "");

  @Test
  void readsWhatNumpyWrites(@TempDir Path dir) {
    SystemPython.require("FOLEY_REQUIRE_NUMPY", "numpy");
    SystemPython.run(dir, Map.of(), 60, "-c", WRITE, "plain.npz", "compressed.npz");
    for (String f : new String[] {"plain.npz", "compressed.npz"}) {
      Map<String, Npz.Array> a = Npz.read(dir.resolve(f));
      assertArrayEquals(new long[] {2, 3}, a.get("f4").shape());
      assertArrayEquals(new float[] {0, 0.25f, 0.5f, 0.75f, 1, 1.25f}, a.get("f4").floats());
      assertArrayEquals(new float[] {0.5f, -2f, 65504f, 5.9604645e-8f}, a.get("f2").floats());
      assertArrayEquals(new long[] {2, 1}, a.get("f8").shape());
      assertArrayEquals(new float[] {1.25f, -3.5f}, a.get("f8").floats());
      assertArrayEquals(new long[] {-(1L << 40), 7}, a.get("i8").longs());
      assertArrayEquals(new long[] {-5, Integer.MAX_VALUE}, a.get("i4").longs());
      assertArrayEquals(new long[] {0, 255}, a.get("u1").longs());
      assertArrayEquals(new long[] {1, 0}, a.get("b").longs());
      assertArrayEquals(new long[0], a.get("scalar").shape());
      assertArrayEquals(new float[] {3f}, a.get("scalar").floats());
      assertEquals(0, a.get("empty").size());
    }
  }

  @Test
  void refusesWhatIsNotAnNpz(@TempDir Path dir) throws Exception {
    Path junk = dir.resolve("junk.npz");
    Files.writeString(junk, "not a zip");
    FoleyException e = assertThrows(FoleyException.class, () -> Npz.read(junk));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains("numpy.savez"), e.getMessage());
    FoleyException missing = assertThrows(FoleyException.class, () -> Npz.read(dir.resolve("absent.npz")));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, missing.code());
  }

  @Test
  void halfPrecisionConversionIsExact() {
    assertEquals(1f, Npz.halfToFloat((short) 0x3c00));
    assertEquals(-0f, Npz.halfToFloat((short) 0x8000));
    assertEquals(Float.POSITIVE_INFINITY, Npz.halfToFloat((short) 0x7c00));
    assertTrue(Float.isNaN(Npz.halfToFloat((short) 0x7e00)));
    assertEquals(0x1p-24f, Npz.halfToFloat((short) 0x0001));
    assertEquals(65504f, Npz.halfToFloat((short) 0x7bff));
  }
}
