package io.foley4j.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The key of the identical-request check: SHA-256 over every parameter that changes the result,
 * each written as a type tag, then its length and bytes (a string) or its 8 bytes (a number), and
 * an absent value as a tag of its own. So no two different parameter lists hash the same input:
 * {@code "x\0y"+"z"} is not {@code "x"+"y\0z"}, and an absent prompt is not the prompt
 * {@code "null"}. The owner is part of the key: one tenant is never answered with another's job.
 */
final class RequestKey {
  private final MessageDigest md;

  private RequestKey(String domain) {
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    add(domain);
  }

  /**
   * The key of a job: its owner, the video's SHA-256 and the parameters that change the audio,
   * the number of variants included. A job of one variant hashes the fields it always had (its key
   * is unchanged, so nodes of before variants and after share it); a job of n > 1 adds n as one
   * more field, so it never shares a key with a job of another count. A job on a named model (a
   * node of several) adds the model's name.
   */
  static String of(String owner, String videoDigest, JobSpec spec) {
    RequestKey k = new RequestKey("foley-serve-request-v2").add(owner).add(videoDigest).add(spec.prompt())
        .add(spec.negativePrompt()).add(spec.steps()).add(Double.doubleToLongBits(spec.cfg())).add(spec.seed());
    if (spec.variants() != 1) {
      k.add(spec.variants());
    }
    if (spec.model() != null) {
      k.add("model").add(spec.model()); // a node of several models: the same request on another model differs
    }
    return k.hex();
  }

  private RequestKey add(String s) {
    if (s == null) {
      md.update((byte) 'n');
      return this;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    md.update((byte) 's');
    md.update(ByteBuffer.allocate(4).putInt(b.length).array());
    md.update(b);
    return this;
  }

  private RequestKey add(long v) {
    md.update((byte) 'l');
    md.update(ByteBuffer.allocate(8).putLong(v).array());
    return this;
  }

  private String hex() {
    return HexFormat.of().formatHex(md.digest());
  }
}
