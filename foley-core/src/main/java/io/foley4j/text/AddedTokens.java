package io.foley4j.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code added_tokens} of a tokenizer, matched in the raw text before anything else: at each
 * position the longest token that matches wins; {@code single_word} tokens only match between
 * non-word characters, {@code lstrip}/{@code rstrip} tokens swallow the white space on their side.
 */
final class AddedTokens {
  record Token(String content, int id, boolean special, boolean singleWord, boolean lstrip, boolean rstrip) {}

  /** Receives the pieces of a text in order; each method returns false to stop. */
  interface Handler {
    /** A non-empty piece of ordinary text; {@code first} if it starts the input. */
    boolean text(String piece, boolean first);

    boolean token(int id);
  }

  private final List<Token> tokens;
  private final Map<Character, Token[]> byFirstChar;
  private final boolean[] firstChars = new boolean[Character.MAX_VALUE + 1];

  private AddedTokens(List<Token> tokens) {
    this.tokens = List.copyOf(tokens);
    Map<Character, List<Token>> groups = new HashMap<>();
    for (Token t : tokens) {
      if (!t.content().isEmpty()) {
        groups.computeIfAbsent(t.content().charAt(0), c -> new ArrayList<>()).add(t);
      }
    }
    Map<Character, Token[]> map = new HashMap<>();
    groups.forEach(
        (c, list) -> {
          Token[] sorted = list.toArray(new Token[0]);
          Arrays.sort(sorted, Comparator.comparingInt((Token t) -> t.content().length()).reversed());
          map.put(c, sorted);
          firstChars[c] = true;
        });
    this.byFirstChar = Map.copyOf(map);
  }

  static AddedTokens parse(JsonArray array, String where) {
    List<Token> tokens = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        String at = where + "[" + i + "]";
        JsonObject o = Json.object(array.get(i), at);
        tokens.add(
            new Token(
                Json.string(o.get("content"), at + ".content"),
                Json.integer(o.get("id"), at + ".id"),
                Json.optBoolean(o, "special", at, false),
                Json.optBoolean(o, "single_word", at, false),
                Json.optBoolean(o, "lstrip", at, false),
                Json.optBoolean(o, "rstrip", at, false)));
      }
    }
    return new AddedTokens(tokens);
  }

  List<Token> tokens() {
    return tokens;
  }

  /** Splits {@code text} into ordinary pieces and added tokens. Returns false if stopped. */
  boolean split(String text, Handler handler) {
    int n = text.length();
    int segmentStart = 0;
    boolean first = true;
    int i = 0;
    while (i < n) {
      char c = text.charAt(i);
      Token match = firstChars[c] ? longestMatch(text, i) : null;
      if (match == null) {
        i++;
        continue;
      }
      int start = i;
      int end = i + match.content().length();
      if (match.lstrip()) {
        while (start > segmentStart && Text.isWhitespace(text.charAt(start - 1))) {
          start--;
        }
      }
      if (match.rstrip()) {
        while (end < n && Text.isWhitespace(text.charAt(end))) {
          end++;
        }
      }
      if (start > segmentStart) {
        if (!handler.text(text.substring(segmentStart, start), first)) {
          return false;
        }
      }
      first = false;
      if (!handler.token(match.id())) {
        return false;
      }
      segmentStart = end;
      i = end;
    }
    if (segmentStart < n) {
      return handler.text(text.substring(segmentStart), first);
    }
    return true;
  }

  private Token longestMatch(String text, int i) {
    for (Token t : byFirstChar.get(text.charAt(i))) {
      String content = t.content();
      if (!text.startsWith(content, i)) {
        continue;
      }
      if (t.singleWord()) {
        int end = i + content.length();
        boolean before = i > 0 && Text.isWordChar(text.codePointBefore(i));
        boolean after = end < text.length() && Text.isWordChar(text.codePointAt(end));
        if (before || after) {
          continue;
        }
      }
      return t;
    }
    return null;
  }
}
