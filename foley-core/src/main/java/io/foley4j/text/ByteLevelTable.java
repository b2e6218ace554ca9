package io.foley4j.text;

import java.nio.charset.StandardCharsets;

/**
 * The GPT-2 byte-to-unicode table: every byte gets a printable, non-space character so that BPE
 * can work on bytes as text. Bytes that are printable Latin-1 ({@code !..~}, {@code ¡..¬},
 * {@code ®..ÿ}) map to themselves; the other 68 map, in byte order, to U+0100, U+0101, ... (so
 * space 0x20 is U+0120 'Ġ' and newline 0x0A is U+010A 'Ċ').
 */
final class ByteLevelTable {
  private static final char[] BYTE_TO_CHAR = build();

  private ByteLevelTable() {}

  private static char[] build() {
    char[] table = new char[256];
    int next = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      table[b] = printable ? (char) b : (char) (256 + next++);
    }
    return table;
  }

  /** The character standing for byte {@code b} (0..255). */
  static char charOf(int b) {
    return BYTE_TO_CHAR[b & 0xFF];
  }

  /** The UTF-8 bytes of {@code s} (which must hold no lone surrogates), one character each. */
  static String encode(String s) {
    // Fast path: pure ASCII needs no byte array.
    int n = s.length();
    char[] out = new char[n];
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        return encodeBytes(s.getBytes(StandardCharsets.UTF_8));
      }
      out[i] = BYTE_TO_CHAR[c];
    }
    return new String(out);
  }

  private static String encodeBytes(byte[] bytes) {
    char[] out = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
    }
    return new String(out);
  }
}
