package io.foley4j.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A text-to-text step run on each piece of text between added tokens. Implementations are immutable. */
@FunctionalInterface
interface Normalizer {
  String SUPPORTED =
      "Lowercase, NFC, NFD, NFKC, NFKD, Strip, StripAccents, Replace, Prepend, BertNormalizer,"
          + " Sequence";

  Normalizer IDENTITY = s -> s;

  String normalize(String s);

  /** Parses the {@code normalizer} field (null means none). */
  static Normalizer parse(JsonElement e, String where) {
    if (Json.isNull(e)) {
      return IDENTITY;
    }
    JsonObject o = Json.object(e, where);
    String type = Json.type(o, where);
    switch (type) {
      case "Lowercase":
        return s -> s.toLowerCase(Locale.ROOT);
      case "NFC":
        return s -> java.text.Normalizer.normalize(s, Form.NFC);
      case "NFD":
        return s -> java.text.Normalizer.normalize(s, Form.NFD);
      case "NFKC":
        return s -> java.text.Normalizer.normalize(s, Form.NFKC);
      case "NFKD":
        return s -> java.text.Normalizer.normalize(s, Form.NFKD);
      case "StripAccents":
        return Normalizer::stripAccents;
      case "Strip":
        {
          boolean left = Json.optBoolean(o, "strip_left", where, true);
          boolean right = Json.optBoolean(o, "strip_right", where, true);
          return s -> strip(s, left, right);
        }
      case "Prepend":
        {
          String prefix = Json.optString(o, "prepend", where, "");
          return s -> s.isEmpty() ? s : prefix + s;
        }
      case "Replace":
        {
          Pattern pattern = Patterns.parse(o.get("pattern"), where + ".pattern");
          String content = Json.optString(o, "content", where, "");
          String replacement = Matcher.quoteReplacement(content);
          return s -> BoundedText.matcher(pattern, s).replaceAll(replacement);
        }
      case "BertNormalizer":
        {
          boolean clean = Json.optBoolean(o, "clean_text", where, true);
          boolean chinese = Json.optBoolean(o, "handle_chinese_chars", where, true);
          boolean lowercase = Json.optBoolean(o, "lowercase", where, true);
          boolean accents = Json.optBoolean(o, "strip_accents", where, lowercase);
          return s -> bert(s, clean, chinese, accents, lowercase);
        }
      case "Sequence":
        {
          JsonArray items = Json.array(o.get("normalizers"), where + ".normalizers");
          List<Normalizer> steps = new ArrayList<>();
          for (int i = 0; i < items.size(); i++) {
            steps.add(parse(items.get(i), where + ".normalizers[" + i + "]"));
          }
          return s -> {
            for (Normalizer step : steps) {
              s = step.normalize(s);
            }
            return s;
          };
        }
      default:
        throw Json.unsupported("normalizer", type, SUPPORTED);
    }
  }

  private static String strip(String s, boolean left, boolean right) {
    int start = 0;
    int end = s.length();
    if (left) {
      while (start < end && Text.isWhitespace(s.codePointAt(start))) {
        start += Character.charCount(s.codePointAt(start));
      }
    }
    if (right) {
      while (end > start && Text.isWhitespace(s.codePointBefore(end))) {
        end -= Character.charCount(s.codePointBefore(end));
      }
    }
    return s.substring(start, end);
  }

  private static String stripAccents(String s) {
    String d = java.text.Normalizer.normalize(s, Form.NFD);
    StringBuilder sb = new StringBuilder(d.length());
    d.codePoints()
        .filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK)
        .forEach(sb::appendCodePoint);
    return sb.toString();
  }

  private static String bert(
      String s, boolean clean, boolean chinese, boolean accents, boolean lowercase) {
    StringBuilder sb = new StringBuilder(s.length() + 16);
    s.codePoints()
        .forEach(
            cp -> {
              if (clean) {
                if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                  return;
                }
                if (Text.isWhitespace(cp)) {
                  sb.append(' ');
                  return;
                }
              }
              if (chinese && isCjk(cp)) {
                sb.append(' ').appendCodePoint(cp).append(' ');
              } else {
                sb.appendCodePoint(cp);
              }
            });
    String out = sb.toString();
    if (accents) {
      out = stripAccents(out);
    }
    return lowercase ? out.toLowerCase(Locale.ROOT) : out;
  }

  private static boolean isControl(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      return false;
    }
    int t = Character.getType(cp);
    return t == Character.CONTROL
        || t == Character.FORMAT
        || t == Character.PRIVATE_USE
        || t == Character.UNASSIGNED;
  }

  private static boolean isCjk(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF)
        || (cp >= 0x3400 && cp <= 0x4DBF)
        || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F)
        || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF)
        || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }
}
