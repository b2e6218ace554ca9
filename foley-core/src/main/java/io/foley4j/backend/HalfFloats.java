package io.foley4j.backend;

import ai.onnxruntime.platform.Fp16Conversions;
import java.nio.ShortBuffer;

/**
 * float32 ↔ float16/bfloat16 conversion at a model's boundary. The engine holds every float tensor
 * as float32; a stage that the manifest declares {@code float16} or {@code bfloat16} gets its inputs
 * converted into the session's reused direct buffer and its outputs converted back. The element
 * conversions are ONNX Runtime's ({@link Fp16Conversions}: round to nearest even for both types);
 * the values go through a small primitive scratch array and bulk {@code ShortBuffer} transfers, so
 * nothing is boxed and no buffer is allocated per call besides the result array.
 */
final class HalfFloats {
  private static final int CHUNK = 8192;

  private HalfFloats() {}

  /** Converts {@code src} into {@code dst} from its position on (advancing it), as fp16 or bf16 bits. */
  static void toHalf(float[] src, ShortBuffer dst, boolean bf16) {
    short[] chunk = new short[Math.min(CHUNK, src.length)];
    for (int off = 0; off < src.length; off += CHUNK) {
      int n = Math.min(CHUNK, src.length - off);
      if (bf16) {
        for (int i = 0; i < n; i++) {
          chunk[i] = Fp16Conversions.floatToBf16(src[off + i]);
        }
      } else {
        for (int i = 0; i < n; i++) {
          chunk[i] = Fp16Conversions.floatToFp16(src[off + i]);
        }
      }
      dst.put(chunk, 0, n);
    }
  }

  /** The remaining fp16 or bf16 values of {@code src} as float32 (exact: every half value is a float). */
  static float[] toFloat(ShortBuffer src, boolean bf16) {
    float[] out = new float[src.remaining()];
    short[] chunk = new short[Math.min(CHUNK, out.length)];
    for (int off = 0; off < out.length; off += CHUNK) {
      int n = Math.min(CHUNK, out.length - off);
      src.get(chunk, 0, n);
      if (bf16) {
        for (int i = 0; i < n; i++) {
          out[off + i] = Fp16Conversions.bf16ToFloat(chunk[i]);
        }
      } else {
        for (int i = 0; i < n; i++) {
          out[off + i] = Fp16Conversions.fp16ToFloat(chunk[i]);
        }
      }
    }
    return out;
  }
}
