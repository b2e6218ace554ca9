package io.foley4j.text;

/** Character helpers shared by the normalizers, pre-tokenizers and added-token matcher. */
final class Text {
  private Text() {}

  /** {@code s} with every lone surrogate replaced by U+FFFD, so that it has a UTF-8 encoding. */
  static String replaceLoneSurrogates(String s) {
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        i += 2;
      } else if (Character.isSurrogate(c)) {
        break;
      } else {
        i++;
      }
    }
    if (i == n) {
      return s;
    }
    StringBuilder sb = new StringBuilder(n).append(s, 0, i);
    while (i < n) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        sb.append(c).append(s.charAt(i + 1));
        i += 2;
      } else {
        sb.append(Character.isSurrogate(c) ? '\uFFFD' : c);
        i++;
      }
    }
    return sb.toString();
  }

  /** Unicode white space (the {@code White_Space} property, as {@code \s} in Rust's regex). */
  static boolean isWhitespace(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
  }

  /** A letter, mark, digit or connector: what {@code \w} matches. */
  static boolean isWordChar(int cp) {
    if (Character.isLetterOrDigit(cp)) {
      return true;
    }
    int t = Character.getType(cp);
    return t == Character.NON_SPACING_MARK
        || t == Character.ENCLOSING_MARK
        || t == Character.COMBINING_SPACING_MARK
        || t == Character.CONNECTOR_PUNCTUATION
        || t == Character.LETTER_NUMBER
        || t == Character.OTHER_NUMBER;
  }
}
