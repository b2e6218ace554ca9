package io.foley4j.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits normalised text into words, lazily: each word goes to a {@link Sink} as soon as it is
 * found, and splitting stops when the sink says so (the encoder has enough tokens). Immutable.
 */
@FunctionalInterface
interface PreTokenizer {
  String SUPPORTED =
      "ByteLevel, Whitespace, WhitespaceSplit, Metaspace, Split, BertPreTokenizer, Digits,"
          + " Punctuation, Sequence";

  /** Receives words; returns false to stop. */
  @FunctionalInterface
  interface Sink {
    boolean accept(String word);
  }

  /**
   * Splits {@code text} (never empty), feeding {@code sink}.
   *
   * @param first whether {@code text} starts the input (Metaspace's "first" prepend scheme)
   * @return false if the sink asked to stop
   */
  boolean split(String text, boolean first, Sink sink);

  PreTokenizer NONE = (text, first, sink) -> sink.accept(text);

  /** GPT-2's split: contractions, letters, digits, other symbols, each with one leading space. */
  Pattern GPT2 =
      Pattern.compile(
          "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
          Pattern.UNICODE_CHARACTER_CLASS);

  Pattern WHITESPACE_WORDS = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);
  Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
  Pattern PUNCTUATION = Pattern.compile("[\\p{P}!-/:-@\\[-`{-~]", Pattern.UNICODE_CHARACTER_CLASS);

  /** Parses the {@code pre_tokenizer} field (null means none: the whole text is one word). */
  static PreTokenizer parse(JsonElement e, String where) {
    if (Json.isNull(e)) {
      return NONE;
    }
    JsonObject o = Json.object(e, where);
    String type = Json.type(o, where);
    switch (type) {
      case "ByteLevel":
        {
          boolean prefixSpace = Json.optBoolean(o, "add_prefix_space", where, true);
          boolean useRegex = Json.optBoolean(o, "use_regex", where, true);
          return (text, first, sink) -> {
            String t = prefixSpace && text.charAt(0) != ' ' ? " " + text : text;
            if (!useRegex) {
              return sink.accept(ByteLevelTable.encode(t));
            }
            return Splitter.split(
                t, GPT2, Splitter.Behavior.ISOLATED, false, w -> sink.accept(ByteLevelTable.encode(w)));
          };
        }
      case "Whitespace":
        return (text, first, sink) ->
            Splitter.split(text, WHITESPACE_WORDS, Splitter.Behavior.REMOVED, true, sink);
      case "WhitespaceSplit":
        return (text, first, sink) ->
            Splitter.split(text, WHITESPACE, Splitter.Behavior.REMOVED, false, sink);
      case "BertPreTokenizer":
        return (text, first, sink) ->
            Splitter.split(
                text,
                WHITESPACE,
                Splitter.Behavior.REMOVED,
                false,
                w -> Splitter.split(w, PUNCTUATION, Splitter.Behavior.ISOLATED, false, sink));
      case "Punctuation":
        {
          Splitter.Behavior behavior = Splitter.Behavior.parse(o, where, "Isolated");
          return (text, first, sink) -> Splitter.split(text, PUNCTUATION, behavior, false, sink);
        }
      case "Digits":
        {
          Pattern digits =
              Json.optBoolean(o, "individual_digits", where, false)
                  ? Pattern.compile("\\p{N}")
                  : Pattern.compile("\\p{N}+");
          return (text, first, sink) ->
              Splitter.split(text, digits, Splitter.Behavior.ISOLATED, false, sink);
        }
      case "Split":
        {
          Pattern pattern = Patterns.parse(o.get("pattern"), where + ".pattern");
          Splitter.Behavior behavior = Splitter.Behavior.parse(o, where, null);
          boolean invert = Json.optBoolean(o, "invert", where, false);
          return (text, first, sink) -> Splitter.split(text, pattern, behavior, invert, sink);
        }
      case "Metaspace":
        return metaspace(o, where);
      case "Sequence":
        {
          JsonArray items = Json.array(o.get("pretokenizers"), where + ".pretokenizers");
          List<PreTokenizer> steps = new ArrayList<>();
          for (int i = 0; i < items.size(); i++) {
            steps.add(parse(items.get(i), where + ".pretokenizers[" + i + "]"));
          }
          PreTokenizer chain = NONE;
          for (int i = steps.size() - 1; i >= 0; i--) {
            chain = then(steps.get(i), chain);
          }
          return chain;
        }
      default:
        throw Json.unsupported("pre_tokenizer", type, SUPPORTED);
    }
  }

  /** Runs {@code rest} on each word of {@code head}; only the first word keeps {@code first}. */
  private static PreTokenizer then(PreTokenizer head, PreTokenizer rest) {
    if (rest == NONE) {
      return head;
    }
    return (text, first, sink) -> {
      boolean[] isFirst = {first};
      return head.split(
          text,
          first,
          w -> {
            boolean f = isFirst[0];
            isFirst[0] = false;
            return rest.split(w, f, sink);
          });
    };
  }

  private static PreTokenizer metaspace(JsonObject o, String where) {
    String replacementText = Json.optString(o, "replacement", where, "\u2581");
    if (replacementText.codePointCount(0, replacementText.length()) != 1) {
      throw Json.invalid(where + ".replacement must be one character, got '" + replacementText + "'");
    }
    String scheme;
    if (o.has("prepend_scheme") && !Json.isNull(o.get("prepend_scheme"))) {
      scheme = Json.string(o.get("prepend_scheme"), where + ".prepend_scheme");
      if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
        throw Json.invalid(
            where + ".prepend_scheme must be always, first or never, got '" + scheme + "'");
      }
    } else {
      scheme = Json.optBoolean(o, "add_prefix_space", where, true) ? "always" : "never";
    }
    boolean split = Json.optBoolean(o, "split", where, true);
    Pattern marker = Pattern.compile(Pattern.quote(replacementText));
    return (text, first, sink) -> {
      String t = text.replace(" ", replacementText);
      boolean prepend =
          scheme.equals("always") || (scheme.equals("first") && first);
      if (prepend && !t.startsWith(replacementText)) {
        t = replacementText + t;
      }
      if (!split) {
        return sink.accept(t);
      }
      return Splitter.split(t, marker, Splitter.Behavior.MERGED_WITH_NEXT, false, sink);
    };
  }

  /** Regex splitting with the five behaviours of the {@code Split} pre-tokenizer. */
  final class Splitter {
    enum Behavior {
      REMOVED,
      ISOLATED,
      MERGED_WITH_PREVIOUS,
      MERGED_WITH_NEXT,
      CONTIGUOUS;

      static Behavior parse(JsonObject o, String where, String fallback) {
        String name = Json.optString(o, "behavior", where, fallback);
        if (name == null) {
          throw Json.invalid(where + " has no 'behavior'");
        }
        switch (name) {
          case "Removed":
            return REMOVED;
          case "Isolated":
            return ISOLATED;
          case "MergedWithPrevious":
            return MERGED_WITH_PREVIOUS;
          case "MergedWithNext":
            return MERGED_WITH_NEXT;
          case "Contiguous":
            return CONTIGUOUS;
          default:
            throw Json.unsupported(
                "split behavior",
                name,
                "Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
        }
      }
    }

    private Splitter() {}

    /**
     * Splits {@code s} into the matches of {@code pattern} (empty matches ignored) and the text
     * between them, then combines them per {@code behavior}; {@code invert} swaps the roles of
     * matches and the text between. Empty words are never emitted.
     */
    static boolean split(String s, Pattern pattern, Behavior behavior, boolean invert, Sink sink) {
      Combiner c = new Combiner(s, behavior, sink);
      Matcher m = BoundedText.matcher(pattern, s);
      int pos = 0;
      while (m.find()) {
        if (m.end() == m.start()) {
          continue;
        }
        if (m.start() > pos && !c.part(pos, m.start(), invert)) {
          return false;
        }
        if (!c.part(m.start(), m.end(), !invert)) {
          return false;
        }
        pos = m.end();
      }
      if (pos < s.length() && !c.part(pos, s.length(), invert)) {
        return false;
      }
      return c.finish();
    }

    /** Streams (start, end, isDelimiter) parts into words. */
    private static final class Combiner {
      private final String s;
      private final Behavior behavior;
      private final Sink sink;
      private int pendingStart = -1;
      private int pendingEnd = -1;
      private boolean pendingIsDelimiter;
      private boolean previousDelimiter;

      Combiner(String s, Behavior behavior, Sink sink) {
        this.s = s;
        this.behavior = behavior;
        this.sink = sink;
      }

      boolean part(int start, int end, boolean delimiter) {
        boolean previous = previousDelimiter;
        previousDelimiter = delimiter;
        switch (behavior) {
          case REMOVED:
            return delimiter || sink.accept(s.substring(start, end));
          case ISOLATED:
            return sink.accept(s.substring(start, end));
          case CONTIGUOUS:
            if (pendingStart >= 0 && delimiter && pendingIsDelimiter && pendingEnd == start) {
              pendingEnd = end;
              return true;
            }
            return flushThen(start, end, delimiter);
          case MERGED_WITH_PREVIOUS:
            if (delimiter && !previous && pendingStart >= 0 && pendingEnd == start) {
              pendingEnd = end;
              return true;
            }
            return flushThen(start, end, delimiter);
          case MERGED_WITH_NEXT:
            if (!delimiter && pendingStart >= 0 && pendingIsDelimiter && pendingEnd == start) {
              pendingEnd = end;
              pendingIsDelimiter = false;
              return true;
            }
            return flushThen(start, end, delimiter);
          default:
            throw new AssertionError(behavior);
        }
      }

      private boolean flushThen(int start, int end, boolean delimiter) {
        boolean ok = flush();
        pendingStart = start;
        pendingEnd = end;
        pendingIsDelimiter = delimiter;
        return ok;
      }

      private boolean flush() {
        if (pendingStart < 0) {
          return true;
        }
        String w = s.substring(pendingStart, pendingEnd);
        pendingStart = -1;
        return sink.accept(w);
      }

      boolean finish() {
        return flush();
      }
    }
  }
}
