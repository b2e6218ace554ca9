package io.foley4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 cache keys. Every field is written with its type and length before its bytes, so no two
 * different field lists can produce the same input to the hash.
 */
final class CacheKeys {
  private CacheKeys() {}

  /** SHA-256 of the file's bytes, read once, front to back. */
  static String videoDigest(Path video) {
    MessageDigest md = sha();
    try (InputStream in = Files.newInputStream(video)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    } catch (NoSuchFileException e) {
      throw new FoleyException(FoleyException.Code.IO, "video " + video + " does not exist", e);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read video " + video + ": " + e, e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** SHA-256 of the bytes from {@code bytes}' position to its limit (the buffer is not changed). */
  static String videoDigest(ByteBuffer bytes) {
    MessageDigest md = sha();
    md.update(bytes.duplicate());
    return HexFormat.of().formatHex(md.digest());
  }

  /** Key of a whole result: everything that changes the audio. */
  static String result(String bundleDigest, String videoSource, String videoDigest, String prompt, String negative,
      int steps, float cfg, long seed) {
    return new Builder("foley4j-result-v1").add(bundleDigest).add(videoSource).add(videoDigest).add(prompt)
        .add(negative).add(steps).add(Float.floatToIntBits(cfg)).add(seed).hex();
  }

  /**
   * The single-flight key of a request whose variants have these result keys: the key itself for one
   * variant (so nothing changes for a request of one), else a hash of them all in order, which only
   * an identical request of as many variants shares.
   */
  static String flight(String[] variantKeys) {
    if (variantKeys.length == 1) {
      return variantKeys[0];
    }
    Builder b = new Builder("foley4j-variants-v1").add(variantKeys.length);
    for (String k : variantKeys) {
      b.add(k);
    }
    return b.hex();
  }

  /** Key of one segment's encoder features. */
  static String features(String bundleDigest, String videoSource, String videoDigest, int segment) {
    return new Builder("foley4j-features-v1").add(bundleDigest).add(videoSource).add(videoDigest).add(segment).hex();
  }

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final class Builder {
    private final MessageDigest md = sha();

    Builder(String domain) {
      add(domain);
    }

    Builder add(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      md.update((byte) 's');
      md.update(ByteBuffer.allocate(4).putInt(b.length).array());
      md.update(b);
      return this;
    }

    Builder add(long v) {
      md.update((byte) 'l');
      md.update(ByteBuffer.allocate(8).putLong(v).array());
      return this;
    }

    String hex() {
      return HexFormat.of().formatHex(md.digest());
    }
  }
}
