package io.foley4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import io.foley4j.SystemPython;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tokenizer.json the export tool writes for MMAudio (``foley_export openclip-tokenizer``) gives,
 * through foley4j's tokenizer, the ids of open_clip's own {@code SimpleTokenizer} (the one MMAudio
 * calls), 77 per text, on prompts of every kind: contractions, digits, punctuation runs, accents,
 * CJK, emoji, tabs and runs of spaces, what ftfy repairs character by character (curly quotes,
 * ligatures, full-width forms, controls), and texts long enough to be truncated.
 */
class OpenClipTokenizerTest {
  static final List<String> PROMPTS = List.of(
      "a dog barking",
      "Footsteps on GRAVEL, then a door slams!",
      "the car's engine revs; it'll stop at 3:45pm (maybe)",
      "  water   dripping\tin a\ncave  ",
      "glass shatters...!!! ???",
      "café ambience, crème brûlée spoon tapping",
      "猫が鳴く 雨の音",
      "thunder 🌩️ and rain ☔",
      "rock'n'roll guitar, 1960s; the band's drummer",
      "it's what we've been told: you're fine, I'm here, they'd go",
      "C-3PO beeps & R2 whistles — sci-fi",
      "x",
      "",
      "ÅNGSTRÖM Ǆ ŉ ﬁ ligature",
      "it\u2019s \u201cquoted\u201d \u2018text\u2019 \u201ebelow\u201f",
      "\uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48\uff01\uff0c \u3000space \uff8a\uff9e",
      "bell\u0007 c1\u0085 next\u0093q\u0094 nbsp\u00a0here zero\u200bwidth line\u2028break",
      "e\u0301 combining, \u212b angstrom sign, \u0130stanbul \u039f\u0394\u039f\u03a3",
      "wind ".repeat(100),
      "a very long description of many sounds including " + "birds chirping and leaves rustling, ".repeat(12));

  @Test
  void idsEqualOpenClipsOwnTokenizer(@TempDir Path dir) throws Exception {
    SystemPython.require("FOLEY_REQUIRE_TORCH", "torch", "ftfy", "regex");
    SystemPython.requireInstalled("FOLEY_REQUIRE_TORCH", "open_clip");
    Path tool = Path.of("").toAbsolutePath().getParent().resolve("tools").resolve("export");
    JsonArray prompts = new JsonArray();
    PROMPTS.forEach(prompts::add);
    Files.writeString(dir.resolve("prompts.json"), prompts.toString(), StandardCharsets.UTF_8);
    String script = String.join("\n",
        "import json, sys",
        "from foley_export import openclip_tokenizer as o",
        "o.write('tokenizer.json')",
        "prompts = json.load(open('prompts.json', encoding='utf-8'))",
        "ids = o.simple_tokenizer()(prompts, context_length=77).tolist()",
        "json.dump(ids, open('ids.json', 'w'))",
        "print('ok', len(ids))");
    String out = SystemPython.run(dir, Map.of("PYTHONPATH", tool.toString()), 300, "-c", script);
    assertTrue(out.contains("ok " + PROMPTS.size()), out);
    Tokenizer t;
    try (InputStream in = Files.newInputStream(dir.resolve("tokenizer.json"))) {
      t = Tokenizer.fromJson(in);
    }
    assertEquals(49408, t.vocabSize());
    assertEquals(0, t.padId(), "open_clip pads with 0");
    JsonArray want = JsonParser.parseString(Files.readString(dir.resolve("ids.json"))).getAsJsonArray();
    int truncated = 0;
    for (int i = 0; i < PROMPTS.size(); i++) {
      JsonArray row = want.get(i).getAsJsonArray();
      long[] expected = new long[row.size()];
      int k = 0;
      for (JsonElement e : row) {
        expected[k++] = e.getAsLong();
      }
      Encoding got = t.encode(PROMPTS.get(i), 77);
      assertArrayEquals(expected, got.ids(), "prompt " + i + ": " + PROMPTS.get(i));
      truncated += got.truncated() ? 1 : 0;
      assertEquals(49406, got.ids()[0], "start of text first");
    }
    assertEquals(2, truncated, "the two long prompts are cut, the end of text kept last");
  }
}
