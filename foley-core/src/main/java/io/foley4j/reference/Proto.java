package io.foley4j.reference;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal protocol-buffers encoder (wire format only): varints, 32-bit fixed values and
 * length-delimited fields. Enough to write ONNX {@code ModelProto} messages by hand; repeated
 * scalars are written unpacked, which every protobuf parser accepts.
 */
final class Proto {
  private static final int WIRE_VARINT = 0;
  private static final int WIRE_LEN = 2;
  private static final int WIRE_FIXED32 = 5;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** Writes an integer field (int32, int64 or enum) as a varint; negative values use 10 bytes. */
  Proto varint(int field, long value) {
    tag(field, WIRE_VARINT);
    rawVarint(value);
    return this;
  }

  /** Writes a {@code float} field (wire type fixed32, little-endian IEEE 754). */
  Proto float32(int field, float value) {
    tag(field, WIRE_FIXED32);
    int bits = Float.floatToRawIntBits(value);
    for (int i = 0; i < 4; i++) {
      out.write((bits >>> (8 * i)) & 0xFF);
    }
    return this;
  }

  /** Writes a {@code bytes} field. */
  Proto bytes(int field, byte[] value) {
    tag(field, WIRE_LEN);
    rawVarint(value.length);
    out.write(value, 0, value.length);
    return this;
  }

  /** Writes a {@code string} field as UTF-8. */
  Proto string(int field, String value) {
    return bytes(field, value.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes an embedded message field. */
  Proto message(int field, Proto message) {
    return bytes(field, message.toByteArray());
  }

  byte[] toByteArray() {
    return out.toByteArray();
  }

  private void tag(int field, int wireType) {
    if (field <= 0) {
      throw new IllegalArgumentException("field number must be positive: " + field);
    }
    rawVarint(((long) field << 3) | wireType);
  }

  private void rawVarint(long value) {
    long v = value;
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }
}
