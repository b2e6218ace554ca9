package io.foley4j.reference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Test helper: runs one ONNX file with ONNX Runtime and returns the first output as floats. */
final class Ort implements AutoCloseable {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  final OrtSession session;

  Ort(Path file) throws OrtException {
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      this.session = ENV.createSession(file.toString(), so);
    }
  }

  Ort(byte[] model) throws OrtException {
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      this.session = ENV.createSession(model, so);
    }
  }

  /** inputs: name → float[] or long[] followed by its shape (Object[] {data, long[] shape}). */
  float[] run(Object... namesDataShapes) throws OrtException {
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      for (int i = 0; i < namesDataShapes.length; i += 3) {
        String name = (String) namesDataShapes[i];
        long[] shape = (long[]) namesDataShapes[i + 2];
        Object data = namesDataShapes[i + 1];
        OnnxTensor t = data instanceof float[] f
            ? OnnxTensor.createTensor(ENV, FloatBuffer.wrap(f), shape)
            : OnnxTensor.createTensor(ENV, LongBuffer.wrap((long[]) data), shape);
        in.put(name, t);
      }
      try (OrtSession.Result r = session.run(in)) {
        FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
      }
    } finally {
      for (OnnxTensor t : in.values()) {
        t.close();
      }
    }
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
