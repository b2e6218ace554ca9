package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
  @TempDir Path tmp;

  @Test
  void roundTripsF32AndI64WithMetadata() {
    Map<String, Safetensors.Tensor> in = new LinkedHashMap<>();
    in.put("z", Safetensors.Tensor.f32(new float[] {1.5f, -2f, Float.MIN_VALUE, 0f, 3f, 4f}, 2, 3));
    in.put("a", Safetensors.Tensor.i64(new long[] {Long.MIN_VALUE, 7}, 2));
    in.put("scalar", Safetensors.Tensor.f32(new float[] {42f}));
    Path f = tmp.resolve("t.safetensors");
    Safetensors.write(f, in, Map.of("format", "pt"));
    Safetensors.Contents c = Safetensors.read(f);
    assertEquals(in, c.tensors());
    assertEquals(List.of("a", "scalar", "z"), List.copyOf(c.tensors().keySet()), "laid out in name order");
    assertEquals("pt", c.metadata().get("format"));
    assertArrayEquals(new long[] {2, 3}, c.tensor("z").shape());
    assertEquals(0, (8 + ByteBuffer.wrap(Safetensors.toBytes(in, Map.of())).order(ByteOrder.LITTLE_ENDIAN).getLong()) % 8);
    assertArrayEquals(Safetensors.toBytes(in, Map.of("k", "v")), Safetensors.toBytes(in, Map.of("k", "v")));
    FoleyException e = assertThrows(FoleyException.class, () -> c.tensor("missing"));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertThrows(IllegalStateException.class, () -> c.tensor("a").floats());
  }

  @Test
  void readsAFileWrittenByHand() {
    // what the Python safetensors library writes for {"x": torch.tensor([1.0, 2.0])}
    byte[] bytes = file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    ByteBuffer.wrap(bytes, bytes.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f);
    assertArrayEquals(new float[] {1f, 2f}, Safetensors.parse(bytes).tensor("x").floats());
  }

  @Test
  void rejectsMalformedContent() {
    assertInvalid(new byte[4]);
    byte[] huge = new byte[16];
    ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
    assertInvalid(huge);
    assertInvalid(file("not json", 0));
    assertInvalid(file("[1,2]", 0));
    assertInvalid(file("{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4));
    assertInvalid(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8));
    assertInvalid(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4));
    assertInvalid(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8));
    assertInvalid(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
    assertInvalid(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8));
    assertInvalid(file("{\"__metadata__\":{\"k\":1}}", 0));
  }

  @Test
  void rejectsHeadersThatAreNotStrictJsonOrRepeatAName() {
    String x = "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
    // Gson keeps the last "x" silently, and both describe the same 4 bytes
    FoleyException dup = assertInvalid(file("{" + x + "," + x + "}", 4));
    assertTrue(dup.getMessage().contains("duplicate key \"x\""), dup.getMessage());
    assertInvalid(file("{" + x + "} // comment", 4));
    assertInvalid(file("{" + x.replace("\"F32\"", "'F32'") + "}", 4));
    assertInvalid(file("{" + x.replace("[1]", "[1e99999]") + "}", 4));
    // the header's space padding is still fine
    assertEquals(1, Safetensors.parse(file("{" + x + "}   ", 4)).tensors().size());
  }

  @Test
  void missingFileIsAnIoError() {
    FoleyException e = assertThrows(FoleyException.class, () -> Safetensors.read(tmp.resolve("nope.safetensors")));
    assertEquals(FoleyException.Code.IO, e.code());
  }

  private static FoleyException assertInvalid(byte[] bytes) {
    FoleyException e = assertThrows(FoleyException.class, () -> Safetensors.parse(bytes));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().startsWith("safetensors"), e.getMessage());
    return e;
  }

  private static byte[] file(String header, int dataBytes) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    return b.array();
  }
}
