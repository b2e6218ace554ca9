package io.foley4j.audio;

/** Sample encodings a WAV file can be written in. */
public enum WavFormat {
  /** 16-bit signed integer PCM (format tag 1); samples are clipped to [-1, 1] and rounded. */
  PCM_16(1, 16),
  /** 32-bit IEEE float (format tag 3, WAVE_FORMAT_EXTENSIBLE not needed for mono). */
  FLOAT_32(3, 32);

  final int tag;
  final int bits;

  WavFormat(int tag, int bits) {
    this.tag = tag;
    this.bits = bits;
  }

  /** Bits per sample. */
  public int bitsPerSample() {
    return bits;
  }
}
