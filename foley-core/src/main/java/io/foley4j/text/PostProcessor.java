package io.foley4j.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The special tokens put around a single sequence: {@code prefix}, then the text's tokens, then
 * {@code suffix}.
 */
record PostProcessor(int[] prefix, int[] suffix) {
  static final String SUPPORTED =
      "RobertaProcessing, BertProcessing, TemplateProcessing, ByteLevel, Sequence";
  static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

  int specialCount() {
    return prefix.length + suffix.length;
  }

  static PostProcessor parse(JsonElement e, String where) {
    if (Json.isNull(e)) {
      return NONE;
    }
    JsonObject o = Json.object(e, where);
    String type = Json.type(o, where);
    switch (type) {
      case "RobertaProcessing":
      case "BertProcessing":
        return new PostProcessor(
            new int[] {pairId(o.get("cls"), where + ".cls")},
            new int[] {pairId(o.get("sep"), where + ".sep")});
      case "TemplateProcessing":
        return template(o, where);
      case "ByteLevel":
        return NONE;
      case "Sequence":
        {
          JsonArray items = Json.array(o.get("processors"), where + ".processors");
          PostProcessor result = NONE;
          for (int i = 0; i < items.size(); i++) {
            PostProcessor p = parse(items.get(i), where + ".processors[" + i + "]");
            result = new PostProcessor(concat(p.prefix, result.prefix), concat(result.suffix, p.suffix));
          }
          return result;
        }
      default:
        throw Json.unsupported("post_processor", type, SUPPORTED);
    }
  }

  /** {@code ["</s>", 2]} to 2. */
  private static int pairId(JsonElement e, String where) {
    JsonArray a = Json.array(e, where);
    if (a.size() != 2) {
      throw Json.invalid(where + " must be [token, id], got " + Json.describe(e));
    }
    return Json.integer(a.get(1), where + "[1]");
  }

  private static PostProcessor template(JsonObject o, String where) {
    JsonElement single = o.get("single");
    List<String> items = new ArrayList<>();
    if (single != null && single.isJsonPrimitive()) {
      for (String piece : Json.string(single, where + ".single").trim().split("\\s+")) {
        items.add(piece);
      }
    } else {
      JsonArray a = Json.array(single, where + ".single");
      for (int i = 0; i < a.size(); i++) {
        String at = where + ".single[" + i + "]";
        JsonElement item = a.get(i);
        if (item.isJsonPrimitive()) {
          items.add(Json.string(item, at));
          continue;
        }
        JsonObject io = Json.object(item, at);
        if (io.has("SpecialToken")) {
          items.add(Json.string(Json.object(io.get("SpecialToken"), at).get("id"), at + ".SpecialToken.id"));
        } else if (io.has("Sequence")) {
          items.add("$" + Json.string(Json.object(io.get("Sequence"), at).get("id"), at + ".Sequence.id"));
        } else {
          throw Json.invalid(at + " must be a SpecialToken or a Sequence, got " + Json.describe(item));
        }
      }
    }
    JsonObject specials =
        Json.isNull(o.get("special_tokens"))
            ? new JsonObject()
            : Json.object(o.get("special_tokens"), where + ".special_tokens");
    List<Integer> prefix = new ArrayList<>();
    List<Integer> suffix = new ArrayList<>();
    boolean seenSequence = false;
    for (String item : items) {
      String name = item;
      int colon = name.lastIndexOf(':');
      if (colon > 0 && name.substring(colon + 1).matches("\\d+")) {
        name = name.substring(0, colon); // type id, irrelevant for ids
      }
      if (name.equals("$A") || name.equals("$") || name.equals("$0")) {
        if (seenSequence) {
          throw Json.invalid(where + ".single uses the sequence twice");
        }
        seenSequence = true;
        continue;
      }
      if (name.startsWith("$")) {
        throw Json.invalid(where + ".single refers to sequence '" + name + "'; a single template can only use $A");
      }
      JsonElement special = specials.get(name);
      if (special == null) {
        throw Json.invalid(where + ".single uses special token '" + name + "' missing from special_tokens");
      }
      JsonArray ids = Json.array(Json.object(special, where + ".special_tokens." + name).get("ids"),
          where + ".special_tokens." + name + ".ids");
      for (int i = 0; i < ids.size(); i++) {
        (seenSequence ? suffix : prefix).add(Json.integer(ids.get(i), where + ".special_tokens." + name + ".ids"));
      }
    }
    if (!seenSequence) {
      throw Json.invalid(where + ".single does not contain the sequence $A");
    }
    return new PostProcessor(toArray(prefix), toArray(suffix));
  }

  private static int[] toArray(List<Integer> list) {
    return list.stream().mapToInt(Integer::intValue).toArray();
  }

  private static int[] concat(int[] a, int[] b) {
    int[] r = new int[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
