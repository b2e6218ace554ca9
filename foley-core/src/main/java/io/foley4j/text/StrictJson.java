package io.foley4j.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.Objects;

/**
 * The JSON reader of every file in a model bundle (the manifest, {@code tokenizer.json}, the
 * safetensors header). Stricter than Gson's {@code JsonParser}: RFC 8259 syntax only (no comments,
 * single quotes, unquoted names or trailing content), at most {@value #MAX_DEPTH} levels of nesting,
 * numbers of at most {@value #MAX_NUMBER_LENGTH} characters with an exponent below 10 000, and
 * <b>no object with the same key twice</b> (Gson keeps the last one silently, so a hand-edited
 * file could mean something else than it seems to). Internal to foley4j: public only so that the
 * bundle package can share it.
 */
public final class StrictJson {
  /** Deepest nesting of arrays and objects accepted. */
  public static final int MAX_DEPTH = 128;

  /** Longest number literal accepted. */
  public static final int MAX_NUMBER_LENGTH = 1000;

  private StrictJson() {}

  /**
   * Parses one JSON document.
   *
   * @param source what to call the document in messages ("foley-bundle.json")
   * @param code the code of the exception for malformed JSON
   * @throws FoleyException with {@code code} if the text is not one strict JSON document or repeats
   *     a key, naming the line, column and JSON path (an {@link InvalidBundleException} for
   *     {@link FoleyException.Code#INVALID_BUNDLE})
   */
  public static JsonElement parse(String json, String source, FoleyException.Code code) {
    Objects.requireNonNull(json, "json");
    return parse(new StringReader(json), source, code);
  }

  /**
   * Parses one JSON document read to the end from {@code in} (not closed).
   *
   * @throws FoleyException with {@code code} if malformed, with {@link FoleyException.Code#IO} if
   *     reading fails
   */
  public static JsonElement parse(Reader in, String source, FoleyException.Code code) {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(code, "code");
    JsonReader r = new JsonReader(in);
    r.setStrictness(Strictness.STRICT);
    r.setNestingLimit(MAX_DEPTH);
    try {
      JsonElement root = read(r, source, code);
      if (r.peek() != JsonToken.END_DOCUMENT) {
        throw malformed(source, code, "trailing content after the JSON document at " + r.getPath(), null);
      }
      return root;
    } catch (java.io.EOFException e) {
      throw malformed(source, code, "the document ends too early (" + clean(e.getMessage()) + ")", e);
    } catch (com.google.gson.stream.MalformedJsonException | IllegalStateException | NumberFormatException e) {
      throw malformed(source, code, clean(e.getMessage()), e);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read " + source + ": " + e.getMessage(), e);
    }
  }

  private static JsonElement read(JsonReader r, String source, FoleyException.Code code) throws IOException {
    switch (r.peek()) {
      case BEGIN_OBJECT -> {
        JsonObject o = new JsonObject();
        r.beginObject();
        while (r.hasNext()) {
          String key = r.nextName();
          if (o.has(key)) {
            throw malformed(source, code, "duplicate key \"" + shorten(key) + "\" at " + r.getPath()
                + " (each key may appear once per object)", null);
          }
          o.add(key, read(r, source, code));
        }
        r.endObject();
        return o;
      }
      case BEGIN_ARRAY -> {
        JsonArray a = new JsonArray();
        r.beginArray();
        while (r.hasNext()) {
          a.add(read(r, source, code));
        }
        r.endArray();
        return a;
      }
      case STRING -> {
        return new JsonPrimitive(r.nextString());
      }
      case NUMBER -> {
        String path = r.getPath();
        String n = r.nextString();
        BigDecimal d = n.length() > MAX_NUMBER_LENGTH ? null : new BigDecimal(n);
        if (d == null || Math.abs((long) d.scale()) >= 10_000) {
          throw malformed(source, code, "number " + shorten(n) + " at " + path + " is out of range", null);
        }
        return new JsonPrimitive(d);
      }
      case BOOLEAN -> {
        return new JsonPrimitive(r.nextBoolean());
      }
      case NULL -> {
        r.nextNull();
        return JsonNull.INSTANCE;
      }
      default -> throw malformed(source, code, "unexpected " + r.peek() + " at " + r.getPath(), null);
    }
  }

  private static FoleyException malformed(String source, FoleyException.Code code, String what, Throwable cause) {
    String message = source + ": malformed JSON: " + what;
    return code == FoleyException.Code.INVALID_BUNDLE ? new InvalidBundleException(message, cause)
        : new FoleyException(code, message, cause);
  }

  /** Gson's message without its advice to parse leniently and its troubleshooting link. */
  private static String clean(String m) {
    if (m == null) {
      return "malformed JSON";
    }
    int see = m.indexOf("\nSee ");
    String s = see >= 0 ? m.substring(0, see) : m;
    return s.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ", "malformed JSON ")
        .strip();
  }

  private static String shorten(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }
}
