package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheKeysTest {
  private static final String B = "b".repeat(64);
  private static final String V = "v".repeat(64);

  @Test
  void everyParameterChangesTheResultKey() {
    String base = CacheKeys.result(B, "jcodec", V, "rain", "noisy", 50, 4.5f, 7);
    List<String> variants = List.of(
        CacheKeys.result("c".repeat(64), "jcodec", V, "rain", "noisy", 50, 4.5f, 7),
        CacheKeys.result(B, "ffmpeg", V, "rain", "noisy", 50, 4.5f, 7),
        CacheKeys.result(B, "jcodec", "w".repeat(64), "rain", "noisy", 50, 4.5f, 7),
        CacheKeys.result(B, "jcodec", V, "rain ", "noisy", 50, 4.5f, 7),
        CacheKeys.result(B, "jcodec", V, "rain", "noisy!", 50, 4.5f, 7),
        CacheKeys.result(B, "jcodec", V, "rain", "noisy", 49, 4.5f, 7),
        CacheKeys.result(B, "jcodec", V, "rain", "noisy", 50, 4.50001f, 7),
        CacheKeys.result(B, "jcodec", V, "rain", "noisy", 50, 4.5f, 8),
        // moving text between fields must not collide
        CacheKeys.result(B, "jcodec", V, "rainnoisy", "", 50, 4.5f, 7),
        CacheKeys.result(B, "jcodec", V, "", "rainnoisy", 50, 4.5f, 7));
    Set<String> all = new HashSet<>(variants);
    all.add(base);
    assertEquals(variants.size() + 1, all.size(), "all keys distinct");
    assertEquals(base, CacheKeys.result(B, "jcodec", V, "rain", "noisy", 50, 4.5f, 7), "and stable");
    assertEquals(64, base.length());
    assertEquals(base, base.toLowerCase(java.util.Locale.ROOT));
  }

  @Test
  void featureKeysDependOnVideoBundleDecoderAndSegmentOnly() {
    String k = CacheKeys.features(B, "jcodec", V, 0);
    assertNotEquals(k, CacheKeys.features(B, "jcodec", V, 1));
    assertNotEquals(k, CacheKeys.features("c".repeat(64), "jcodec", V, 0));
    assertNotEquals(k, CacheKeys.features(B, "other", V, 0));
    assertNotEquals(k, CacheKeys.features(B, "jcodec", "w".repeat(64), 0));
    assertNotEquals(k, CacheKeys.result(B, "jcodec", V, "", "", 0, 0, 0));
  }

  @Test
  void videoDigestIsTheSha256OfTheBytes(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("v.mp4");
    Files.write(f, "abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", CacheKeys.videoDigest(f));
    byte[] big = new byte[300_000];
    big[299_999] = 1;
    Files.write(f, big);
    String a = CacheKeys.videoDigest(f);
    big[0] = 1;
    Files.write(f, big);
    assertNotEquals(a, CacheKeys.videoDigest(f), "one changed byte anywhere changes it");
  }
}
