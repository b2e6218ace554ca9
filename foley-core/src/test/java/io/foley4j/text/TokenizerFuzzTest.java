package io.foley4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.foley4j.FoleyException;
import java.io.ByteArrayInputStream;

/**
 * Fuzz targets of the tokenizer (docs/testing.md). In a normal build they replay the committed
 * corpus under {@code src/test/resources/io/foley4j/text/TokenizerFuzzTestInputs/}; with
 * {@code JAZZER_FUZZ=1} they fuzz for {@code maxDuration}.
 */
class TokenizerFuzzTest {
  private static final Tokenizer ROBERTA = Fixtures.load(Fixtures.roberta());

  /**
   * Any bytes as tokenizer.json: loading either succeeds or throws a typed {@link FoleyException};
   * a tokenizer that loads encodes any text.
   */
  @FuzzTest(maxDuration = "60s")
  void loadAndEncode(byte[] data) {
    Tokenizer t;
    try {
      t = Tokenizer.fromJson(new ByteArrayInputStream(data));
    } catch (FoleyException e) {
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code(), e.toString());
      return;
    }
    // A tokenizer that loaded is valid: encoding must work for any text, as long as maxLength leaves
    // room for the special tokens the post-processor adds (fewer than 64 in any real tokenizer).
    String text = new String(data, 0, Math.min(data.length, 200), java.nio.charset.StandardCharsets.ISO_8859_1);
    for (String s : new String[] {"", "a dog barks twice, then a door slams", text}) {
      Encoding e;
      try {
        e = t.encode(s, 64);
      } catch (FoleyException ex) {
        if (ex.code() == FoleyException.Code.INVALID_ARGUMENT && ex.getMessage().contains("at least")) {
          return; // this post-processor adds more than 64 special tokens
        }
        if (ex.code() == FoleyException.Code.INVALID_BUNDLE && ex.getMessage().contains("catastrophic backtracking")) {
          return; // the file's own regex is exponential: refused, boundedly (ErrorsTest)
        }
        throw ex;
      }
      assertWellFormed(t, e, 64);
    }
  }

  /** Any string, any length that fits the special tokens: encode of a valid tokenizer never throws. */
  @FuzzTest(maxDuration = "60s")
  void encodeNeverThrows(FuzzedDataProvider data) {
    int maxLength = data.consumeInt(2, 600);
    String text = data.consumeRemainingAsString();
    assertWellFormed(ROBERTA, ROBERTA.encode(text, maxLength), maxLength);
  }

  private static void assertWellFormed(Tokenizer t, Encoding e, int maxLength) {
    long[] ids = e.ids();
    long[] mask = e.attentionMask();
    assertEquals(maxLength, ids.length);
    assertEquals(maxLength, mask.length);
    for (int i = 0; i < maxLength; i++) {
      assertTrue(ids[i] >= 0 && ids[i] < Math.max(1, t.vocabSize()), "id " + ids[i] + " of " + t.vocabSize());
      assertTrue(mask[i] == 0 || mask[i] == 1);
    }
  }
}
