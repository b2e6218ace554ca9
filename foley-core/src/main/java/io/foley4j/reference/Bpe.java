package io.foley4j.reference;

import io.foley4j.FoleyException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny byte-level BPE (GPT-2/RoBERTa style): trains merges over the {@link Lexicon} until every
 * lexicon word (with and without the leading-space marker "Ġ") is a single token, and encodes text
 * the way Hugging Face tokenizers does (lowercase, GPT-2 split regex with a prefix space, byte to
 * unicode mapping, lowest-rank merge first, RoBERTa {@code <s> … </s>}, right padding to 77).
 * Immutable; the trained instance is shared through {@link #reference()}.
 */
final class Bpe {
  static final String BOS = "<s>";
  static final String PAD = "<pad>";
  static final String EOS = "</s>";
  static final String UNK = "<unk>";
  static final int BOS_ID = 0;
  static final int PAD_ID = 1;
  static final int EOS_ID = 2;
  static final int UNK_ID = 3;
  static final int MAX_TOKENS = 77;

  private static final Pattern SPLIT = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

  /** GPT-2 bytes_to_unicode: byte value → printable character. */
  static final char[] BYTE_TO_CHAR = byteToChar();
  /** Byte values in GPT-2 vocabulary order (printable ones first). */
  private static final int[] BYTE_ORDER = byteOrder();

  private final Map<String, Integer> vocab; // insertion order = id order
  private final List<String[]> merges;
  private final Map<String, Integer> mergeRank;
  private final String[] idToToken;

  private Bpe(Map<String, Integer> vocab, List<String[]> merges) {
    this.vocab = vocab;
    this.merges = merges;
    this.mergeRank = new HashMap<>();
    for (int i = 0; i < merges.size(); i++) {
      mergeRank.put(merges.get(i)[0] + " " + merges.get(i)[1], i);
    }
    this.idToToken = new String[vocab.size()];
    vocab.forEach((t, id) -> idToToken[id] = t);
  }

  private static final class Holder {
    static final Bpe REFERENCE = train(Lexicon.WORDS);
  }

  /** The tokenizer trained over the reference lexicon (computed once). */
  static Bpe reference() {
    return Holder.REFERENCE;
  }

  Map<String, Integer> vocab() {
    return vocab;
  }

  List<String[]> merges() {
    return merges;
  }

  int vocabSize() {
    return idToToken.length;
  }

  String token(int id) {
    return idToToken[id];
  }

  /** Id of a whole token such as "Ġglass", or -1. */
  int id(String token) {
    Integer id = vocab.get(token);
    return id == null ? -1 : id;
  }

  /** Pitch of token id: +1/−1 for the lexicon's high/low words (with or without "Ġ"), else 0. */
  int pitch(int id) {
    String t = idToToken[id];
    if (t.startsWith("Ġ")) {
      t = t.substring(1);
    }
    Integer p = Lexicon.PITCH.get(t);
    return p == null ? 0 : p;
  }

  /** Trains merges over {@code words} until each word and "Ġ"+word is one token. */
  static Bpe train(Iterable<String> words) {
    LinkedHashMap<String, Integer> vocab = new LinkedHashMap<>();
    for (String s : new String[] {BOS, PAD, EOS, UNK}) {
      vocab.put(s, vocab.size());
    }
    for (int b : BYTE_ORDER) {
      vocab.put(String.valueOf(BYTE_TO_CHAR[b]), vocab.size());
    }
    List<List<String>> corpus = new ArrayList<>();
    for (String w : words) {
      corpus.add(symbols(byteLevel(w)));
      corpus.add(symbols(byteLevel(" " + w)));
    }
    List<String[]> merges = new ArrayList<>();
    while (true) {
      // Count adjacent pairs; pick the most frequent, ties by the smallest "a b" string.
      Map<String, Integer> counts = new HashMap<>();
      for (List<String> word : corpus) {
        for (int i = 0; i + 1 < word.size(); i++) {
          counts.merge(word.get(i) + " " + word.get(i + 1), 1, Integer::sum);
        }
      }
      if (counts.isEmpty()) {
        break;
      }
      String best = null;
      int bestCount = -1;
      for (Map.Entry<String, Integer> e : counts.entrySet()) {
        if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = e.getValue();
        }
      }
      int sp = best.indexOf(' ');
      String a = best.substring(0, sp);
      String b = best.substring(sp + 1);
      merges.add(new String[] {a, b});
      vocab.putIfAbsent(a + b, vocab.size());
      for (List<String> word : corpus) {
        mergeAll(word, a, b);
      }
    }
    Bpe bpe = new Bpe(vocab, List.copyOf(merges));
    for (String w : words) {
      for (String form : new String[] {w, " " + w}) {
        List<String> pieces = bpe.bpe(byteLevel(form));
        if (pieces.size() != 1) {
          throw new FoleyException(FoleyException.Code.INTERNAL,
              "reference tokenizer training left '" + form + "' in " + pieces.size() + " pieces");
        }
      }
    }
    return bpe;
  }

  /** Encodes text to exactly {@value #MAX_TOKENS} ids: {@code <s>} tokens {@code </s>} then padding. */
  long[] encode(String text) {
    List<Integer> ids = new ArrayList<>();
    for (String piece : pretokenize(text)) {
      for (String t : bpe(piece)) {
        Integer id = vocab.get(t);
        ids.add(id == null ? UNK_ID : id);
      }
    }
    long[] out = new long[MAX_TOKENS];
    Arrays.fill(out, PAD_ID);
    out[0] = BOS_ID;
    int n = Math.min(ids.size(), MAX_TOKENS - 2);
    for (int i = 0; i < n; i++) {
      out[i + 1] = ids.get(i);
    }
    out[n + 1] = EOS_ID;
    return out;
  }

  /** The attention mask of {@link #encode}: 1 for real tokens (including specials), 0 for padding. */
  static long[] mask(long[] ids) {
    long[] m = new long[ids.length];
    int last = 0;
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == EOS_ID) {
        last = i;
        break;
      }
    }
    Arrays.fill(m, 0, last + 1, 1L);
    return m;
  }

  /** Lowercase, add a prefix space, split with the GPT-2 regex, map bytes to unicode symbols. */
  static List<String> pretokenize(String text) {
    String s = text.toLowerCase(Locale.ROOT);
    if (!s.isEmpty() && !Character.isWhitespace(s.charAt(0))) {
      s = " " + s;
    }
    List<String> out = new ArrayList<>();
    Matcher m = SPLIT.matcher(s);
    while (m.find()) {
      out.add(byteLevel(m.group()));
    }
    return out;
  }

  /** Applies merges to one pre-token, lowest rank first (leftmost on ties), like HF tokenizers. */
  List<String> bpe(String piece) {
    List<String> word = symbols(piece);
    while (word.size() > 1) {
      int bestRank = Integer.MAX_VALUE;
      int bestPos = -1;
      for (int i = 0; i + 1 < word.size(); i++) {
        Integer r = mergeRank.get(word.get(i) + " " + word.get(i + 1));
        if (r != null && r < bestRank) {
          bestRank = r;
          bestPos = i;
        }
      }
      if (bestPos < 0) {
        break;
      }
      word.set(bestPos, word.get(bestPos) + word.get(bestPos + 1));
      word.remove(bestPos + 1);
    }
    return word;
  }

  static String byteLevel(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      sb.append(BYTE_TO_CHAR[b & 0xFF]);
    }
    return sb.toString();
  }

  private static List<String> symbols(String s) {
    List<String> out = new ArrayList<>();
    s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
    return out;
  }

  private static void mergeAll(List<String> word, String a, String b) {
    for (int i = 0; i + 1 < word.size(); i++) {
      if (word.get(i).equals(a) && word.get(i + 1).equals(b)) {
        word.set(i, a + b);
        word.remove(i + 1);
      }
    }
  }

  private static boolean printable(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  }

  private static int[] byteOrder() {
    int[] order = new int[256];
    int k = 0;
    for (int b = 0; b < 256; b++) {
      if (printable(b)) {
        order[k++] = b;
      }
    }
    for (int b = 0; b < 256; b++) {
      if (!printable(b)) {
        order[k++] = b;
      }
    }
    return order;
  }

  private static char[] byteToChar() {
    char[] map = new char[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      map[b] = printable(b) ? (char) b : (char) (256 + n++);
    }
    return map;
  }
}
