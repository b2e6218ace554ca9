package io.foley4j.reference;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A small builder for ONNX graphs that serializes straight to {@code ModelProto} bytes with
 * {@link Proto}. Field numbers follow the public ONNX IR specification (onnx.proto, IR version 8,
 * default operator set 17). Values are referred to by name; {@link #op} returns the name of a fresh
 * output so graphs read like expressions:
 *
 * <pre>{@code
 * OnnxGraph g = new OnnxGraph("add");
 * String a = g.input("a", OnnxGraph.FLOAT, "batch", 3);
 * String y = g.op("Add", OnnxGraph.in(a, g.scalar("one", 1f)));
 * g.output(y, "y", OnnxGraph.FLOAT, "batch", 3);
 * byte[] model = g.toModel();
 * }</pre>
 */
final class OnnxGraph {
  /** TensorProto.DataType FLOAT. */
  static final int FLOAT = 1;
  /** TensorProto.DataType INT64. */
  static final int INT64 = 7;
  /** TensorProto.DataType FLOAT16. */
  static final int FLOAT16 = 10;
  /** TensorProto.DataType BFLOAT16. */
  static final int BFLOAT16 = 16;

  static final long IR_VERSION = 8;
  static final long OPSET = 17;

  // ModelProto
  private static final int MODEL_IR_VERSION = 1;
  private static final int MODEL_PRODUCER_NAME = 2;
  private static final int MODEL_PRODUCER_VERSION = 3;
  private static final int MODEL_DOC_STRING = 6;
  private static final int MODEL_GRAPH = 7;
  private static final int MODEL_OPSET_IMPORT = 8;
  // OperatorSetIdProto
  private static final int OPSET_DOMAIN = 1;
  private static final int OPSET_VERSION = 2;
  // GraphProto
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_NAME = 2;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int GRAPH_INPUT = 11;
  private static final int GRAPH_OUTPUT = 12;
  // NodeProto
  private static final int NODE_INPUT = 1;
  private static final int NODE_OUTPUT = 2;
  private static final int NODE_NAME = 3;
  private static final int NODE_OP_TYPE = 4;
  private static final int NODE_ATTRIBUTE = 5;
  // AttributeProto
  private static final int ATTR_NAME = 1;
  private static final int ATTR_F = 2;
  private static final int ATTR_I = 3;
  private static final int ATTR_INTS = 8;
  private static final int ATTR_TYPE = 20;
  private static final int ATTR_TYPE_FLOAT = 1;
  private static final int ATTR_TYPE_INT = 2;
  private static final int ATTR_TYPE_INTS = 7;
  // TensorProto
  private static final int TENSOR_DIMS = 1;
  private static final int TENSOR_DATA_TYPE = 2;
  private static final int TENSOR_NAME = 8;
  private static final int TENSOR_RAW_DATA = 9;
  private static final int TENSOR_EXTERNAL_DATA = 13;
  private static final int TENSOR_DATA_LOCATION = 14;
  private static final int DATA_LOCATION_EXTERNAL = 1;
  private static final int ENTRY_KEY = 1;
  private static final int ENTRY_VALUE = 2;
  /** External tensors start at multiples of this, as ONNX's own writer aligns them for mmap. */
  private static final int EXTERNAL_ALIGN = 4096;
  /** Smaller initializers (shapes, axes, scalars) stay in the model, as onnx's own converter keeps them. */
  private static final int EXTERNAL_MIN_BYTES = 1024;
  // ValueInfoProto / TypeProto / TensorShapeProto
  private static final int VALUE_INFO_NAME = 1;
  private static final int VALUE_INFO_TYPE = 2;
  private static final int TYPE_TENSOR = 1;
  private static final int TENSOR_TYPE_ELEM_TYPE = 1;
  private static final int TENSOR_TYPE_SHAPE = 2;
  private static final int SHAPE_DIM = 1;
  private static final int DIM_VALUE = 1;
  private static final int DIM_PARAM = 2;

  /** A node attribute: an int, a float or a list of ints. */
  static final class Attr {
    final String name;
    final int type;
    final long i;
    final float f;
    final long[] ints;

    private Attr(String name, int type, long i, float f, long[] ints) {
      this.name = name;
      this.type = type;
      this.i = i;
      this.f = f;
      this.ints = ints;
    }

    static Attr i(String name, long value) {
      return new Attr(name, ATTR_TYPE_INT, value, 0f, null);
    }

    static Attr f(String name, float value) {
      return new Attr(name, ATTR_TYPE_FLOAT, 0, value, null);
    }

    static Attr ints(String name, long... values) {
      return new Attr(name, ATTR_TYPE_INTS, 0, 0f, values.clone());
    }

    Proto encode() {
      Proto p = new Proto().string(ATTR_NAME, name);
      switch (type) {
        case ATTR_TYPE_INT -> p.varint(ATTR_I, i);
        case ATTR_TYPE_FLOAT -> p.float32(ATTR_F, f);
        default -> {
          for (long v : ints) {
            p.varint(ATTR_INTS, v);
          }
        }
      }
      return p.varint(ATTR_TYPE, type);
    }
  }

  private final String name;
  private final List<Proto> nodes = new ArrayList<>();
  /** An initializer's bytes and layout, serialized inline or as external data by {@link #toModel}. */
  private record Init(String name, int dataType, byte[] raw, long[] dims) {}

  private final List<Init> initializers = new ArrayList<>();
  private final List<Proto> inputs = new ArrayList<>();
  private final List<Proto> outputs = new ArrayList<>();
  private final Set<String> names = new HashSet<>();
  private int counter;

  /** The element type FLOAT inputs and outputs have at the graph's boundary (FLOAT, FLOAT16 or BFLOAT16). */
  private final int floatBoundary;

  OnnxGraph(String name) {
    this(name, FLOAT);
  }

  /**
   * A graph computing in float32 whose FLOAT inputs and outputs are declared {@code floatBoundary}
   * instead (FLOAT16 or BFLOAT16): {@link #input} then casts each such input to float32 and
   * {@link #output} casts each such output back, so the same graph body serves every precision.
   */
  OnnxGraph(String name, int floatBoundary) {
    this.name = Objects.requireNonNull(name, "name");
    if (floatBoundary != FLOAT && floatBoundary != FLOAT16 && floatBoundary != BFLOAT16) {
      throw new IllegalArgumentException("float boundary must be FLOAT, FLOAT16 or BFLOAT16, got " + floatBoundary);
    }
    this.floatBoundary = floatBoundary;
  }

  static List<String> in(String... values) {
    return Arrays.asList(values);
  }

  /** Declares a graph input; each dim is an {@link Integer}/{@link Long} size or a symbolic name. */
  String input(String inputName, int elemType, Object... dims) {
    claim(inputName);
    if (elemType == FLOAT && floatBoundary != FLOAT) {
      inputs.add(valueInfo(inputName, floatBoundary, dims));
      return op("Cast", in(inputName), Attr.i("to", FLOAT));
    }
    inputs.add(valueInfo(inputName, elemType, dims));
    return inputName;
  }

  /** Declares graph output {@code outputName}, fed from {@code value} through an Identity node. */
  void output(String value, String outputName, int elemType, Object... dims) {
    claim(outputName);
    if (elemType == FLOAT && floatBoundary != FLOAT) {
      value = op("Cast", in(value), Attr.i("to", floatBoundary));
      elemType = floatBoundary;
    }
    nodes.add(node("Identity", in(value), List.of(outputName), new Attr[0]));
    outputs.add(valueInfo(outputName, elemType, dims));
  }

  /** Adds a float32 initializer of the given shape (row-major data). */
  String constant(String hint, float[] data, long... dims) {
    check(data.length, dims);
    ByteBuffer buf = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : data) {
      buf.putFloat(v);
    }
    return initializer(hint, FLOAT, buf.array(), dims);
  }

  /** Adds an int64 initializer of the given shape. */
  String constantInt(String hint, long[] data, long... dims) {
    check(data.length, dims);
    ByteBuffer buf = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : data) {
      buf.putLong(v);
    }
    return initializer(hint, INT64, buf.array(), dims);
  }

  /** A rank-0 float32 constant. */
  String scalar(String hint, float value) {
    return constant(hint, new float[] {value});
  }

  /** A rank-1 int64 constant (axes, starts, shapes). */
  String ints(String hint, long... values) {
    return constantInt(hint, values, values.length);
  }

  /** Adds a node with one output and returns the output's (fresh) name. */
  String op(String opType, List<String> nodeInputs, Attr... attrs) {
    String out = fresh(opType.toLowerCase(java.util.Locale.ROOT));
    nodes.add(node(opType, nodeInputs, List.of(out), attrs));
    return out;
  }

  /** Serializes the graph as a complete ONNX model, weights inline. */
  byte[] toModel(String docString) {
    return serialize(docString, null, null);
  }

  /** A model whose initializers live in one external-data file ({@code location}, beside it). */
  record External(byte[] model, byte[] data) {}

  /** Serializes the graph with every initializer in the external-data file {@code location}. */
  External toModelWithExternalData(String docString, String location) {
    java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
    byte[] model = serialize(docString, location, data);
    return new External(model, data.toByteArray());
  }

  private byte[] serialize(String docString, String location, java.io.ByteArrayOutputStream data) {
    Proto graph = new Proto();
    for (Proto n : nodes) {
      graph.message(GRAPH_NODE, n);
    }
    graph.string(GRAPH_NAME, name);
    for (Init i : initializers) {
      Proto t = new Proto();
      for (long d : i.dims()) {
        t.varint(TENSOR_DIMS, d);
      }
      t.varint(TENSOR_DATA_TYPE, i.dataType()).string(TENSOR_NAME, i.name());
      if (location == null || i.raw().length < EXTERNAL_MIN_BYTES) {
        t.bytes(TENSOR_RAW_DATA, i.raw()); // small tensors stay inline: shape inference reads them
      } else {
        while (data.size() % EXTERNAL_ALIGN != 0) {
          data.write(0);
        }
        long offset = data.size();
        data.writeBytes(i.raw());
        t.message(TENSOR_EXTERNAL_DATA, entry("location", location))
            .message(TENSOR_EXTERNAL_DATA, entry("offset", Long.toString(offset)))
            .message(TENSOR_EXTERNAL_DATA, entry("length", Integer.toString(i.raw().length)))
            .varint(TENSOR_DATA_LOCATION, DATA_LOCATION_EXTERNAL);
      }
      graph.message(GRAPH_INITIALIZER, t);
    }
    for (Proto i : inputs) {
      graph.message(GRAPH_INPUT, i);
    }
    for (Proto o : outputs) {
      graph.message(GRAPH_OUTPUT, o);
    }
    return new Proto()
        .varint(MODEL_IR_VERSION, IR_VERSION)
        .string(MODEL_PRODUCER_NAME, "foley4j")
        .string(MODEL_PRODUCER_VERSION, "1")
        .string(MODEL_DOC_STRING, docString)
        .message(MODEL_GRAPH, graph)
        .message(MODEL_OPSET_IMPORT, new Proto().string(OPSET_DOMAIN, "").varint(OPSET_VERSION, OPSET))
        .toByteArray();
  }

  private String initializer(String hint, int dataType, byte[] raw, long... dims) {
    String n = fresh(hint);
    initializers.add(new Init(n, dataType, raw, dims.clone()));
    return n;
  }

  private static Proto entry(String key, String value) {
    return new Proto().string(ENTRY_KEY, key).string(ENTRY_VALUE, value);
  }

  private Proto node(String opType, List<String> nodeInputs, List<String> nodeOutputs, Attr[] attrs) {
    Proto p = new Proto();
    for (String i : nodeInputs) {
      p.string(NODE_INPUT, i);
    }
    for (String o : nodeOutputs) {
      p.string(NODE_OUTPUT, o);
    }
    p.string(NODE_NAME, "n" + nodes.size() + "_" + opType).string(NODE_OP_TYPE, opType);
    for (Attr a : attrs) {
      p.message(NODE_ATTRIBUTE, a.encode());
    }
    return p;
  }

  private static Proto valueInfo(String valueName, int elemType, Object... dims) {
    Proto shape = new Proto();
    for (Object d : dims) {
      Proto dim = new Proto();
      if (d instanceof String s) {
        dim.string(DIM_PARAM, s);
      } else if (d instanceof Number num) {
        dim.varint(DIM_VALUE, num.longValue());
      } else {
        throw new IllegalArgumentException("dimension must be a number or a name: " + d);
      }
      shape.message(SHAPE_DIM, dim);
    }
    Proto tensorType = new Proto().varint(TENSOR_TYPE_ELEM_TYPE, elemType).message(TENSOR_TYPE_SHAPE, shape);
    return new Proto()
        .string(VALUE_INFO_NAME, valueName)
        .message(VALUE_INFO_TYPE, new Proto().message(TYPE_TENSOR, tensorType));
  }

  private String fresh(String hint) {
    String n;
    do {
      n = hint + "_" + counter++;
    } while (names.contains(n));
    claim(n);
    return n;
  }

  private void claim(String n) {
    if (!names.add(n)) {
      throw new IllegalArgumentException("duplicate value name in graph " + name + ": " + n);
    }
  }

  private static void check(int length, long... dims) {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension " + d);
      }
      n *= d;
    }
    if (n != length) {
      throw new IllegalArgumentException("data has " + length + " values but shape " + Arrays.toString(dims) + " needs " + n);
    }
  }
}
