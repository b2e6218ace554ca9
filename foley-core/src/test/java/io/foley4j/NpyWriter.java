package io.foley4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes .npy arrays (version 1.0, little endian, C order) for tests that hand data to Python. */
final class NpyWriter {
  private NpyWriter() {}

  static void floats(Path file, float[] data, long... shape) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(data);
    write(file, "<f4", shape, b.array());
  }

  static void doubles(Path file, double[] data, long... shape) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asDoubleBuffer().put(data);
    write(file, "<f8", shape, b.array());
  }

  static void bytes(Path file, byte[] data, long... shape) throws IOException {
    write(file, "|u1", shape, data);
  }

  private static void write(Path file, String descr, long[] shape, byte[] data) throws IOException {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String s = shape.length == 1 ? dims.toString().trim() : dims.substring(0, Math.max(0, dims.length() - 2));
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + s + "), }";
    int total = 10 + header.length() + 1;
    int pad = (64 - total % 64) % 64;
    header = header + " ".repeat(pad) + "\n";
    ByteBuffer h = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    h.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length());
    try (var out = Files.newOutputStream(file)) {
      out.write(h.array());
      out.write(header.getBytes(StandardCharsets.US_ASCII));
      out.write(data);
    }
  }
}
