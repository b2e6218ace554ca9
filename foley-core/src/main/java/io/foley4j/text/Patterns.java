package io.foley4j.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Parses the {@code {"String": ...}} / {@code {"Regex": ...}} patterns of Replace and Split. */
final class Patterns {
  private Patterns() {}

  static Pattern parse(JsonElement e, String where) {
    if (e != null && e.isJsonPrimitive()) {
      return Pattern.compile(Pattern.quote(Json.string(e, where)));
    }
    JsonObject o = Json.object(e, where);
    if (o.has("String")) {
      return Pattern.compile(Pattern.quote(Json.string(o.get("String"), where + ".String")));
    }
    if (o.has("Regex")) {
      String regex = Json.string(o.get("Regex"), where + ".Regex");
      try {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
      } catch (PatternSyntaxException ex) {
        throw Json.invalid(where + ": regex not supported by java.util.regex: " + ex.getMessage(), ex);
      }
    }
    throw Json.invalid(where + " must be {\"String\": ...} or {\"Regex\": ...}, got " + Json.describe(e));
  }
}
