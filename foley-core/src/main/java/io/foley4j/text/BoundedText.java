package io.foley4j.text;

import io.foley4j.FoleyException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A text whose character reads are counted, so that a regular expression from tokenizer.json that
 * backtracks catastrophically (such as {@code ((a+)+)+$}) stops with a typed error instead of
 * hanging the thread. The budget, {@value #READS_PER_CHAR} reads per character, is far above what
 * the patterns of real tokenizers need (a handful per character) and keeps the worst case linear
 * in the length of the text.
 */
final class BoundedText implements CharSequence {
  static final long READS_PER_CHAR = 4096;

  private final String text;
  private final int start;
  private final int end;
  private final Pattern pattern;
  private final long[] left; // shared by the subsequences the matcher takes

  private BoundedText(String text, int start, int end, Pattern pattern, long[] left) {
    this.text = text;
    this.start = start;
    this.end = end;
    this.pattern = pattern;
    this.left = left;
  }

  /** A matcher of {@code pattern} over {@code s} that throws once it has read too much. */
  static Matcher matcher(Pattern pattern, String s) {
    long budget = READS_PER_CHAR * (s.length() + 64L);
    return pattern.matcher(new BoundedText(s, 0, s.length(), pattern, new long[] {budget}));
  }

  @Override
  public int length() {
    return end - start;
  }

  @Override
  public char charAt(int index) {
    if (--left[0] < 0) {
      throw new FoleyException(FoleyException.Code.INVALID_BUNDLE, "tokenizer.json: the pattern /"
          + describe(pattern.pattern()) + "/ needs more than " + READS_PER_CHAR + " steps per character on a text of "
          + text.length() + " characters (catastrophic backtracking); re-export the tokenizer with a pattern that"
          + " java.util.regex matches in linear time");
    }
    return text.charAt(start + index);
  }

  @Override
  public CharSequence subSequence(int from, int to) {
    if (from < 0 || to > length() || from > to) {
      throw new IndexOutOfBoundsException("subSequence(" + from + ", " + to + ") of " + length());
    }
    return new BoundedText(text, start + from, start + to, pattern, left);
  }

  @Override
  public String toString() {
    return text.substring(start, end);
  }

  private static String describe(String p) {
    return p.length() > 60 ? p.substring(0, 57) + "..." : p;
  }
}
