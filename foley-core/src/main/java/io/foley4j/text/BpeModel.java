package io.foley4j.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding. A word starts as one symbol per code point and the pair of adjacent symbols
 * with the lowest merge rank is merged, repeatedly, until no adjacent pair has a merge (ties go to
 * the leftmost pair). A binary heap of (rank, position) candidates makes this O(n log n) per word;
 * stale candidates are recognised on removal. Results for short words are kept in a bounded
 * concurrent cache.
 */
final class BpeModel implements Model {
  static final int CACHE_CAPACITY = 20_000;
  static final int CACHE_MAX_WORD_LENGTH = 128;

  private final Map<String, Integer> vocab;
  private final PairMap merges;
  private final int unkId;
  private final String prefix;
  private final String suffix;
  private final boolean fuseUnk;
  private final boolean byteFallback;
  private final boolean ignoreMerges;
  private final int[] byteIds;
  /** Ids of single characters below 512 (all of the byte-level alphabet), -1 if absent. */
  private final int[] smallCharIds;
  private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

  private BpeModel(
      Map<String, Integer> vocab,
      PairMap merges,
      int unkId,
      String prefix,
      String suffix,
      boolean fuseUnk,
      boolean byteFallback,
      boolean ignoreMerges) {
    this.vocab = vocab;
    this.merges = merges;
    this.unkId = unkId;
    this.prefix = prefix;
    this.suffix = suffix;
    this.fuseUnk = fuseUnk;
    this.byteFallback = byteFallback;
    this.ignoreMerges = ignoreMerges;
    this.smallCharIds = new int[512];
    for (int c = 0; c < smallCharIds.length; c++) {
      Integer id = vocab.get(String.valueOf((char) c));
      smallCharIds[c] = id == null ? -1 : id;
    }
    this.byteIds = new int[256];
    for (int b = 0; b < 256; b++) {
      Integer id = vocab.get(String.format("<0x%02X>", b));
      byteIds[b] = id == null ? -1 : id;
    }
  }

  static BpeModel parse(JsonObject o, String where) {
    Map<String, Integer> vocab = Map.copyOf(Model.parseVocab(o, where));
    String prefix = emptyToNull(Json.optString(o, "continuing_subword_prefix", where, null));
    JsonArray list = Json.array(o.get("merges") == null ? new JsonArray() : o.get("merges"), where + ".merges");
    PairMap merges = new PairMap(list.size());
    for (int rank = 0; rank < list.size(); rank++) {
      String at = where + ".merges[" + rank + "]";
      JsonElement m = list.get(rank);
      String a;
      String b;
      if (m.isJsonArray()) {
        JsonArray pair = m.getAsJsonArray();
        if (pair.size() != 2) {
          throw Json.invalid(at + " must have two tokens, got " + Json.describe(m));
        }
        a = Json.string(pair.get(0), at + "[0]");
        b = Json.string(pair.get(1), at + "[1]");
      } else {
        String s = Json.string(m, at);
        int space = s.indexOf(' ', 1);
        if (space < 0 || s.indexOf(' ', space + 1) >= 0) {
          throw Json.invalid(at + " must be two tokens separated by one space, got '" + s + "'");
        }
        a = s.substring(0, space);
        b = s.substring(space + 1);
      }
      Integer ia = vocab.get(a);
      Integer ib = vocab.get(b);
      if (ia == null || ib == null) {
        throw Json.invalid(at + " uses token '" + (ia == null ? a : b) + "' that is not in the vocabulary");
      }
      String merged = a + (prefix != null && b.startsWith(prefix) ? b.substring(prefix.length()) : b);
      Integer im = vocab.get(merged);
      if (im == null) {
        throw Json.invalid(at + " makes token '" + merged + "' that is not in the vocabulary");
      }
      merges.putIfAbsent(PairMap.key(ia, ib), ((long) rank << 32) | im);
    }
    return new BpeModel(
        vocab,
        merges,
        Model.optTokenId(o, "unk_token", vocab, where),
        prefix,
        emptyToNull(Json.optString(o, "end_of_word_suffix", where, null)),
        Json.optBoolean(o, "fuse_unk", where, false),
        Json.optBoolean(o, "byte_fallback", where, false),
        Json.optBoolean(o, "ignore_merges", where, false));
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  @Override
  public Map<String, Integer> vocab() {
    return vocab;
  }

  @Override
  public void tokenize(String word, IntList out) {
    int[] ids = cache.get(word);
    if (ids == null) {
      ids = compute(word);
      if (word.length() <= CACHE_MAX_WORD_LENGTH && cache.size() < CACHE_CAPACITY) {
        cache.putIfAbsent(word, ids);
      }
    }
    out.addAll(ids);
  }

  private int[] compute(String word) {
    if (ignoreMerges) {
      Integer id = vocab.get(word);
      if (id != null) {
        return new int[] {id};
      }
    }
    IntList symbols = symbols(word);
    int n = symbols.size();
    if (n < 2) {
      return symbols.toArray();
    }
    int[] id = symbols.toArray();
    int[] next = new int[n];
    int[] prev = new int[n];
    for (int i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    boolean[] dead = new boolean[n];
    LongHeap heap = new LongHeap(n);
    for (int i = 0; i + 1 < n; i++) {
      long merge = merges.get(PairMap.key(id[i], id[i + 1]));
      if (merge != PairMap.MISSING) {
        heap.append((merge & 0xFFFF_FFFF_0000_0000L) | i);
      }
    }
    heap.heapify();
    while (!heap.isEmpty()) {
      long top = heap.poll();
      int rank = (int) (top >>> 32);
      int pos = (int) top;
      int right = next[pos];
      if (dead[pos] || right < 0) {
        continue;
      }
      long merge = merges.get(PairMap.key(id[pos], id[right]));
      if (merge == PairMap.MISSING || (int) (merge >>> 32) != rank) {
        continue; // stale candidate: one of its symbols has changed since it was offered
      }
      id[pos] = (int) merge;
      dead[right] = true;
      next[pos] = next[right];
      if (next[pos] >= 0) {
        prev[next[pos]] = pos;
        offer(heap, id, pos, next[pos]);
      }
      if (prev[pos] >= 0) {
        offer(heap, id, prev[pos], pos);
      }
    }
    IntList result = new IntList(n);
    for (int i = 0; i >= 0; i = next[i]) {
      result.add(id[i]);
    }
    return result.toArray();
  }

  private void offer(LongHeap heap, int[] id, int left, int right) {
    long merge = merges.get(PairMap.key(id[left], id[right]));
    if (merge != PairMap.MISSING) {
      heap.add((merge & 0xFFFF_FFFF_0000_0000L) | left);
    }
  }

  /** The initial symbols: one per code point (with prefix/suffix), byte fallback or unknown. */
  private IntList symbols(String word) {
    IntList symbols = new IntList(word.length());
    boolean lastUnk = false;
    int n = word.length();
    for (int i = 0; i < n; ) {
      int cp = word.codePointAt(i);
      int end = i + Character.charCount(cp);
      if (cp < smallCharIds.length
          && smallCharIds[cp] >= 0
          && (prefix == null || i == 0)
          && (suffix == null || end != n)) {
        symbols.add(smallCharIds[cp]);
        lastUnk = false;
        i = end;
        continue;
      }
      String ch = word.substring(i, end);
      String s = ch;
      if (prefix != null && i > 0) {
        s = prefix + s;
      }
      if (suffix != null && end == n) {
        s = s + suffix;
      }
      i = end;
      Integer id = vocab.get(s);
      if (id != null) {
        symbols.add(id);
        lastUnk = false;
        continue;
      }
      if (byteFallback) {
        byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
        boolean all = true;
        for (byte b : bytes) {
          all &= byteIds[b & 0xFF] >= 0;
        }
        if (all) {
          for (byte b : bytes) {
            symbols.add(byteIds[b & 0xFF]);
          }
          lastUnk = false;
          continue;
        }
      }
      if (unkId >= 0 && !(fuseUnk && lastUnk)) {
        symbols.add(unkId);
        lastUnk = true;
      }
    }
    return symbols;
  }

  /** Open-addressing map from a pair of ids (packed in a long) to (rank << 32 | merged id). */
  static final class PairMap {
    static final long MISSING = Long.MIN_VALUE;
    private static final long EMPTY = -1L;
    private final long[] keys;
    private final long[] values;
    private final int mask;

    PairMap(int expected) {
      int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
      keys = new long[capacity];
      values = new long[capacity];
      Arrays.fill(keys, EMPTY);
      mask = capacity - 1;
    }

    static long key(int a, int b) {
      return ((long) a << 32) | (b & 0xFFFF_FFFFL);
    }

    private int slot(long key) {
      long h = key * 0x9E37_79B9_7F4A_7C15L;
      return (int) (h ^ (h >>> 29)) & mask;
    }

    void putIfAbsent(long key, long value) {
      int i = slot(key);
      while (keys[i] != EMPTY) {
        if (keys[i] == key) {
          return;
        }
        i = (i + 1) & mask;
      }
      keys[i] = key;
      values[i] = value;
    }

    long get(long key) {
      int i = slot(key);
      while (keys[i] != EMPTY) {
        if (keys[i] == key) {
          return values[i];
        }
        i = (i + 1) & mask;
      }
      return MISSING;
    }
  }

  /** A binary min-heap of longs. */
  static final class LongHeap {
    private long[] heap;
    private int size;

    LongHeap(int capacity) {
      heap = new long[Math.max(4, capacity)];
    }

    boolean isEmpty() {
      return size == 0;
    }

    void add(long v) {
      if (size == heap.length) {
        heap = Arrays.copyOf(heap, size * 2);
      }
      int i = size++;
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (heap[parent] <= v) {
          break;
        }
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = v;
    }

    /** Adds without keeping the heap order; call {@link #heapify()} before polling. */
    void append(long v) {
      if (size == heap.length) {
        heap = Arrays.copyOf(heap, size * 2);
      }
      heap[size++] = v;
    }

    void heapify() {
      for (int i = (size >>> 1) - 1; i >= 0; i--) {
        siftDown(i, heap[i]);
      }
    }

    long poll() {
      long top = heap[0];
      long last = heap[--size];
      if (size > 0) {
        siftDown(0, last);
      }
      return top;
    }

    private void siftDown(int i, long v) {
      int half = size >>> 1;
      while (i < half) {
        int child = 2 * i + 1;
        if (child + 1 < size && heap[child + 1] < heap[child]) {
          child++;
        }
        if (v <= heap[child]) {
          break;
        }
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = v;
    }
  }
}
