package io.foley4j.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.TensorInfo;
import io.foley4j.reference.OnnxGraph.Attr;
import org.junit.jupiter.api.Test;

class ProtoTest {

  @Test
  void varintsAndFieldsEncodeLikeProtobuf() {
    assertArrayEquals(new byte[] {0x08, (byte) 0x96, 0x01}, new Proto().varint(1, 150).toByteArray());
    assertArrayEquals(new byte[] {0x12, 0x02, 'h', 'i'}, new Proto().string(2, "hi").toByteArray());
    assertArrayEquals(new byte[] {0x15, 0, 0, (byte) 0x80, 0x3f}, new Proto().float32(2, 1f).toByteArray());
    byte[] neg = new Proto().varint(1, -1).toByteArray();
    assertEquals(11, neg.length, "negative int64 takes 10 varint bytes plus the tag");
  }

  @Test
  void tinyAddGraphRunsInOnnxRuntime() throws Exception {
    OnnxGraph g = new OnnxGraph("tiny");
    String a = g.input("a", OnnxGraph.FLOAT, "batch", 3);
    String b = g.constant("b", new float[] {1f, 2f, 3f}, 3);
    String sum = g.op("Add", OnnxGraph.in(a, b));
    String prod = g.op("Mul", OnnxGraph.in(sum, g.scalar("two", 2f)));
    String red = g.op("ReduceSum", OnnxGraph.in(prod, g.ints("axes", 1)), Attr.i("keepdims", 1));
    g.output(g.op("Add", OnnxGraph.in(prod, red)), "y", OnnxGraph.FLOAT, "batch", 3);
    try (Ort ort = new Ort(g.toModel("test"))) {
      NodeInfo in = ort.session.getInputInfo().get("a");
      assertArrayEquals(new long[] {-1, 3}, ((TensorInfo) in.getInfo()).getShape());
      float[] y = ort.run("a", new float[] {1, 1, 1, 0, -1, 10}, new long[] {2, 3});
      // row 0: (a+b)*2 = 4,6,8 sum 18 → 22,24,26 ; row 1: 2,2,26 sum 30 → 32,32,56
      assertArrayEquals(new float[] {22, 24, 26, 32, 32, 56}, y, 1e-6f);
    }
  }

  @Test
  void graphRejectsBadShapesAndDuplicateNames() {
    OnnxGraph g = new OnnxGraph("bad");
    assertThrows(IllegalArgumentException.class, () -> g.constant("c", new float[3], 2, 2));
    g.input("x", OnnxGraph.FLOAT, 1);
    assertThrows(IllegalArgumentException.class, () -> g.input("x", OnnxGraph.FLOAT, 1));
  }
}
