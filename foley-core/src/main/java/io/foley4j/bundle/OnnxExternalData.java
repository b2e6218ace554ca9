package io.foley4j.bundle;

import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the external data an ONNX model refers to, in pure Java and without loading the model:
 * every {@code TensorProto} (initializers, sparse initializers, constants in node attributes,
 * subgraphs, functions, training graphs) whose {@code external_data} names a {@code location}.
 *
 * <p>The reader walks the protobuf wire format over a file channel and skips every field it does
 * not need by seeking, so a model of several GB with inline weights costs a few reads of its
 * headers, not its size in memory.
 */
final class OnnxExternalData {
  /** A model file that is not well-formed protobuf where the reader looked. */
  static final class Malformed extends InvalidBundleException {
    Malformed(String message) {
      super(message);
    }
  }

  /** One tensor's reference to bytes outside the model file. */
  record Ref(String tensor, String location, long offset, long length, long expectedBytes) {
    /** The bytes ONNX Runtime reads: {@code length} when given, else the tensor's own size (-1: unknown). */
    long bytes() {
      return length >= 0 ? length : expectedBytes;
    }
  }

  private static final int WIRE_VARINT = 0;
  private static final int WIRE_FIXED64 = 1;
  private static final int WIRE_LEN = 2;
  private static final int WIRE_FIXED32 = 5;

  // ModelProto
  private static final int MODEL_GRAPH = 7;
  private static final int MODEL_TRAINING_INFO = 20;
  private static final int MODEL_FUNCTIONS = 25;
  // TrainingInfoProto
  private static final int TRAINING_INITIALIZATION = 1;
  private static final int TRAINING_ALGORITHM = 2;
  // FunctionProto
  private static final int FUNCTION_NODE = 7;
  // GraphProto
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int GRAPH_SPARSE_INITIALIZER = 15;
  // NodeProto
  private static final int NODE_ATTRIBUTE = 5;
  // AttributeProto
  private static final int ATTR_T = 5;
  private static final int ATTR_G = 6;
  private static final int ATTR_TENSORS = 10;
  private static final int ATTR_GRAPHS = 11;
  private static final int ATTR_SPARSE_TENSOR = 22;
  private static final int ATTR_SPARSE_TENSORS = 23;
  // SparseTensorProto
  private static final int SPARSE_VALUES = 1;
  private static final int SPARSE_INDICES = 2;
  // TensorProto
  private static final int TENSOR_DIMS = 1;
  private static final int TENSOR_DATA_TYPE = 2;
  private static final int TENSOR_NAME = 8;
  private static final int TENSOR_EXTERNAL_DATA = 13;
  private static final int TENSOR_DATA_LOCATION = 14;
  private static final int DATA_LOCATION_EXTERNAL = 1;
  // StringStringEntryProto
  private static final int ENTRY_KEY = 1;
  private static final int ENTRY_VALUE = 2;

  /** Deepest nesting of graphs in attributes we follow; real models nest a few levels. */
  private static final int MAX_DEPTH = 64;

  private OnnxExternalData() {}

  /**
   * Every external-data reference of the model in {@code file}.
   *
   * @throws InvalidBundleException if the file is not a well-formed protobuf where it is read
   * @throws FoleyException with {@link FoleyException.Code#IO} if it cannot be read
   */
  static List<Ref> references(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Reader r = new Reader(ch, file);
      List<Ref> refs = new ArrayList<>();
      long end = ch.size();
      while (r.pos < end) {
        long tag = r.varint();
        int field = (int) (tag >>> 3);
        int wire = (int) (tag & 7);
        if (wire == WIRE_LEN && (field == MODEL_GRAPH || field == MODEL_TRAINING_INFO || field == MODEL_FUNCTIONS)) {
          long len = r.length(end);
          long sub = r.pos + len;
          switch (field) {
            case MODEL_GRAPH -> graph(r, sub, refs, 0);
            case MODEL_TRAINING_INFO -> messages(r, sub, refs, 0, TRAINING_INITIALIZATION, TRAINING_ALGORITHM);
            default -> function(r, sub, refs, 0);
          }
          r.pos = sub;
        } else {
          r.skip(wire, end);
        }
      }
      return refs;
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read " + file + ": " + e, e);
    }
  }

  /** A message whose fields {@code graphFields} are GraphProtos (TrainingInfoProto). */
  private static void messages(Reader r, long end, List<Ref> refs, int depth, int... graphFields) throws IOException {
    while (r.pos < end) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (wire == WIRE_LEN && contains(graphFields, field)) {
        long sub = r.sub(end);
        graph(r, sub, refs, depth + 1);
        r.pos = sub;
      } else {
        r.skip(wire, end);
      }
    }
  }

  private static void function(Reader r, long end, List<Ref> refs, int depth) throws IOException {
    while (r.pos < end) {
      long tag = r.varint();
      int wire = (int) (tag & 7);
      if (wire == WIRE_LEN && (tag >>> 3) == FUNCTION_NODE) {
        long sub = r.sub(end);
        node(r, sub, refs, depth);
        r.pos = sub;
      } else {
        r.skip(wire, end);
      }
    }
  }

  private static void graph(Reader r, long end, List<Ref> refs, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw r.invalid("graphs nested more than " + MAX_DEPTH + " deep");
    }
    while (r.pos < end) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (wire != WIRE_LEN || field != GRAPH_NODE && field != GRAPH_INITIALIZER && field != GRAPH_SPARSE_INITIALIZER) {
        r.skip(wire, end);
        continue;
      }
      long sub = r.sub(end);
      switch (field) {
        case GRAPH_NODE -> node(r, sub, refs, depth);
        case GRAPH_INITIALIZER -> tensor(r, sub, refs);
        default -> sparse(r, sub, refs);
      }
      r.pos = sub;
    }
  }

  private static void node(Reader r, long end, List<Ref> refs, int depth) throws IOException {
    while (r.pos < end) {
      long tag = r.varint();
      int wire = (int) (tag & 7);
      if (wire == WIRE_LEN && (tag >>> 3) == NODE_ATTRIBUTE) {
        long sub = r.sub(end);
        attribute(r, sub, refs, depth);
        r.pos = sub;
      } else {
        r.skip(wire, end);
      }
    }
  }

  private static void attribute(Reader r, long end, List<Ref> refs, int depth) throws IOException {
    while (r.pos < end) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (wire != WIRE_LEN) {
        r.skip(wire, end);
        continue;
      }
      long sub = r.sub(end);
      switch (field) {
        case ATTR_T, ATTR_TENSORS -> tensor(r, sub, refs);
        case ATTR_G, ATTR_GRAPHS -> graph(r, sub, refs, depth + 1);
        case ATTR_SPARSE_TENSOR, ATTR_SPARSE_TENSORS -> sparse(r, sub, refs);
        default -> { }
      }
      r.pos = sub;
    }
  }

  private static void sparse(Reader r, long end, List<Ref> refs) throws IOException {
    while (r.pos < end) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (wire == WIRE_LEN && (field == SPARSE_VALUES || field == SPARSE_INDICES)) {
        long sub = r.sub(end);
        tensor(r, sub, refs);
        r.pos = sub;
      } else {
        r.skip(wire, end);
      }
    }
  }

  private static void tensor(Reader r, long end, List<Ref> refs) throws IOException {
    String name = "";
    String location = null;
    long offset = 0;
    long length = -1;
    boolean external = false;
    List<Long> dims = new ArrayList<>();
    int dataType = 0;
    while (r.pos < end) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (field == TENSOR_DIMS && wire == WIRE_VARINT) {
        dims.add(r.varint());
      } else if (field == TENSOR_DIMS && wire == WIRE_LEN) { // packed
        long sub = r.sub(end);
        while (r.pos < sub) {
          dims.add(r.varint());
        }
      } else if (field == TENSOR_DATA_TYPE && wire == WIRE_VARINT) {
        dataType = (int) r.varint();
      } else if (field == TENSOR_DATA_LOCATION && wire == WIRE_VARINT) {
        external = r.varint() == DATA_LOCATION_EXTERNAL;
      } else if (field == TENSOR_NAME && wire == WIRE_LEN) {
        name = r.string(r.length(end), end);
      } else if (field == TENSOR_EXTERNAL_DATA && wire == WIRE_LEN) {
        long sub = r.sub(end);
        String key = null;
        String value = null;
        while (r.pos < sub) {
          long t = r.varint();
          int f = (int) (t >>> 3);
          int w = (int) (t & 7);
          if (w == WIRE_LEN && f == ENTRY_KEY) {
            key = r.string(r.length(sub), sub);
          } else if (w == WIRE_LEN && f == ENTRY_VALUE) {
            value = r.string(r.length(sub), sub);
          } else {
            r.skip(w, sub);
          }
        }
        r.pos = sub;
        if (key != null && value != null) {
          switch (key) {
            case "location" -> location = value;
            case "offset" -> offset = number(r, name, key, value);
            case "length" -> length = number(r, name, key, value);
            default -> { } // "checksum" and others do not change which bytes are read
          }
        }
      } else {
        r.skip(wire, end);
      }
    }
    if (location == null && external) {
      throw r.invalid("tensor \"" + name + "\" is marked as external data but names no location");
    }
    if (location != null) {
      refs.add(new Ref(name, location, offset, length, expectedBytes(dataType, dims)));
    }
  }

  private static long number(Reader r, String tensor, String key, String value) {
    try {
      long v = Long.parseLong(value.trim());
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw r.invalid("tensor \"" + tensor + "\" has external data " + key + " \"" + value
        + "\", which is not a non-negative integer");
  }

  /** The bytes of a tensor of fixed-size elements, or -1 when the type has no fixed size (strings) or is unknown. */
  private static long expectedBytes(int dataType, List<Long> dims) {
    int size = switch (dataType) {
      case 1, 6, 12 -> 4; // FLOAT, INT32, UINT32
      case 2, 3, 9 -> 1; // UINT8, INT8, BOOL
      case 4, 5, 10, 16 -> 2; // UINT16, INT16, FLOAT16, BFLOAT16
      case 7, 11, 13, 14 -> 8; // INT64, DOUBLE, UINT64, COMPLEX64
      case 15 -> 16; // COMPLEX128
      case 17, 18, 19, 20 -> 1; // FLOAT8 variants
      default -> -1;
    };
    if (size < 0) {
      return -1;
    }
    long n = size;
    for (long d : dims) {
      if (d < 0) {
        return -1;
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException overflow) {
        return Long.MAX_VALUE;
      }
    }
    return n;
  }

  private static boolean contains(int[] a, int v) {
    for (int x : a) {
      if (x == v) {
        return true;
      }
    }
    return false;
  }

  /** Buffered, seekable reading of a file channel at an absolute position. */
  private static final class Reader {
    final FileChannel ch;
    final Path file;
    final ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    long bufStart = -1; // file position of buf[0]; -1: empty
    long pos;

    Reader(FileChannel ch, Path file) {
      this.ch = ch;
      this.file = file;
    }

    int read() throws IOException {
      if (bufStart < 0 || pos < bufStart || pos >= bufStart + buf.limit()) {
        buf.clear();
        bufStart = pos;
        while (buf.hasRemaining()) {
          int n = ch.read(buf, bufStart + buf.position());
          if (n < 0) {
            break;
          }
        }
        buf.flip();
        if (buf.limit() == 0) {
          bufStart = -1;
          throw invalid("it ends in the middle of a field");
        }
      }
      return buf.get((int) (pos++ - bufStart)) & 0xFF;
    }

    long varint() throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = read();
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw invalid("a varint is longer than 10 bytes");
    }

    /** Reads a length-delimited field's length and returns where the field ends. */
    long sub(long end) throws IOException {
      long len = length(end);
      return pos + len;
    }

    long length(long end) throws IOException {
      long len = varint();
      if (len < 0 || len > end - pos) {
        throw invalid("a field's length " + len + " runs past the end of its message");
      }
      return len;
    }

    String string(long len, long end) throws IOException {
      if (len > 1 << 20) {
        throw invalid("a string field is " + len + " bytes long");
      }
      byte[] b = new byte[(int) len];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) read();
      }
      return new String(b, StandardCharsets.UTF_8);
    }

    void skip(int wire, long end) throws IOException {
      switch (wire) {
        case WIRE_VARINT -> varint();
        case WIRE_FIXED64 -> pos += 8;
        case WIRE_LEN -> {
          long len = length(end); // read first: "pos += length(end)" would add to the position before the length
          pos += len;
        }
        case 3 -> group(end); // a deprecated group: skipped to its end tag
        case 4 -> throw invalid("an end-group tag without its start");
        case WIRE_FIXED32 -> pos += 4;
        default -> throw invalid("unknown protobuf wire type " + wire);
      }
      if (pos > end) {
        throw invalid("a field runs past the end of its message");
      }
    }

    private void group(long end) throws IOException {
      for (int depth = 1; depth > 0; ) {
        if (pos >= end) {
          throw invalid("a group runs past the end of its message");
        }
        int wire = (int) (varint() & 7);
        if (wire == 3) {
          depth++;
        } else if (wire == 4) {
          depth--;
        } else {
          skip(wire, end);
        }
      }
    }

    InvalidBundleException invalid(String what) {
      return new Malformed(file.getFileName() + " (" + file + ") is not a well-formed ONNX model: " + what
          + " (at byte " + pos + "); re-export the stage or re-download the bundle");
    }
  }
}
