package io.foley4j.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.foley4j.InvalidBundleException;

/** Typed, null-tolerant access to tokenizer.json fields with errors that say where. */
final class Json {
  private Json() {}

  static InvalidBundleException invalid(String message) {
    return new InvalidBundleException("tokenizer.json: " + message);
  }

  static InvalidBundleException invalid(String message, Throwable cause) {
    return new InvalidBundleException("tokenizer.json: " + message, cause);
  }

  static InvalidBundleException unsupported(String component, String type, String supported) {
    return invalid(
        "unsupported " + component + " type '" + type + "'; supported: " + supported);
  }

  static boolean isNull(JsonElement e) {
    return e == null || e.isJsonNull();
  }

  static JsonObject object(JsonElement e, String where) {
    if (e == null || !e.isJsonObject()) {
      throw invalid(where + " must be an object, got " + describe(e));
    }
    return e.getAsJsonObject();
  }

  static JsonArray array(JsonElement e, String where) {
    if (e == null || !e.isJsonArray()) {
      throw invalid(where + " must be an array, got " + describe(e));
    }
    return e.getAsJsonArray();
  }

  static String string(JsonElement e, String where) {
    if (e instanceof JsonPrimitive p && p.isString()) {
      return p.getAsString();
    }
    throw invalid(where + " must be a string, got " + describe(e));
  }

  static int integer(JsonElement e, String where) {
    if (e instanceof JsonPrimitive p && p.isNumber()) {
      double d = p.getAsDouble();
      if (d == Math.rint(d) && d >= 0 && d <= Integer.MAX_VALUE) {
        return (int) d;
      }
    }
    throw invalid(where + " must be a non-negative integer, got " + describe(e));
  }

  /** The string at {@code key}, or {@code fallback} when absent or null. */
  static String optString(JsonObject o, String key, String where, String fallback) {
    JsonElement e = o.get(key);
    return isNull(e) ? fallback : string(e, where + "." + key);
  }

  static boolean optBoolean(JsonObject o, String key, String where, boolean fallback) {
    JsonElement e = o.get(key);
    if (isNull(e)) {
      return fallback;
    }
    if (e instanceof JsonPrimitive p && p.isBoolean()) {
      return p.getAsBoolean();
    }
    throw invalid(where + "." + key + " must be a boolean, got " + describe(e));
  }

  static int optInt(JsonObject o, String key, String where, int fallback) {
    JsonElement e = o.get(key);
    return isNull(e) ? fallback : integer(e, where + "." + key);
  }

  /** The {@code type} of a component object; an error naming the component if it is missing. */
  static String type(JsonObject o, String component) {
    JsonElement e = o.get("type");
    if (isNull(e)) {
      throw invalid(component + " has no 'type'");
    }
    return string(e, component + ".type");
  }

  static String describe(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return "null";
    }
    String s = e.toString();
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }
}
