package io.foley4j.server;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads back a result the service stored as WAV (mono, 16-bit PCM or 32-bit float, as
 * {@code FoleyResult.writeWav} writes it), to convert it to another audio format on request.
 */
record StoredWav(FloatBuffer samples, int sampleRate) {
  static StoredWav read(Path file) {
    byte[] wav;
    try {
      wav = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read the stored result " + file + ": " + e, e);
    }
    ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
    if (wav.length < 12 || !ascii(wav, 0).equals("RIFF") || !ascii(wav, 8).equals("WAVE")) {
      throw broken(file, "no RIFF/WAVE header");
    }
    int format = -1;
    int bits = -1;
    int rate = -1;
    int pos = 12;
    while (pos + 8 <= wav.length) {
      String id = ascii(wav, pos);
      long size = b.getInt(pos + 4) & 0xffffffffL;
      int body = pos + 8;
      if (id.equals("fmt ") && size >= 16 && body + 16 <= wav.length) {
        format = b.getShort(body) & 0xffff;
        if ((b.getShort(body + 2) & 0xffff) != 1) {
          throw broken(file, "not mono");
        }
        rate = b.getInt(body + 4);
        bits = b.getShort(body + 14) & 0xffff;
      } else if (id.equals("data")) {
        int n = (int) Math.min(size, wav.length - body);
        if (format == 1 && bits == 16) {
          float[] s = new float[n / 2];
          for (int i = 0; i < s.length; i++) {
            s[i] = b.getShort(body + 2 * i) / 32767f; // the inverse of the writers' x · 32767, so a re-encode is exact
          }
          return new StoredWav(FloatBuffer.wrap(s), rate);
        }
        if (format == 3 && bits == 32) {
          float[] s = new float[n / 4];
          for (int i = 0; i < s.length; i++) {
            s[i] = b.getFloat(body + 4 * i);
          }
          return new StoredWav(FloatBuffer.wrap(s), rate);
        }
        throw broken(file, "format " + format + " with " + bits + " bits, not 16-bit PCM or 32-bit float");
      }
      pos = (int) Math.min(Integer.MAX_VALUE, body + size + (size & 1));
    }
    throw broken(file, "no data chunk");
  }

  private static String ascii(byte[] b, int at) {
    return new String(b, at, 4, StandardCharsets.US_ASCII);
  }

  private static FoleyException broken(Path file, String why) {
    return new FoleyException(FoleyException.Code.INTERNAL, "the stored result " + file + " is not a WAV this service "
        + "wrote (" + why + ")");
  }
}
