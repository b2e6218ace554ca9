package io.foley4j.server;

import io.foley4j.FoleyRequest;
import io.foley4j.Priority;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A job as the API received it, before it meets an engine: what a stream entry carries to another
 * node. {@code steps} 0 and {@code cfg} NaN mean the bundle's defaults; null prompts mean unset;
 * {@code variants} is 1 to {@link FoleyRequest#MAX_VARIANTS}; {@code model} is the model it runs on
 * (null: the node's one engine).
 */
record JobSpec(String id, String key, String prompt, String negativePrompt, int steps, double cfg, long seed,
    Priority priority, String client, String webhook, int variants, String model) {
  /** A job id as the service makes them: 32 lowercase hex digits (no path or Redis key can hide in one). */
  static final Pattern ID = Pattern.compile("[0-9a-f]{32}");

  static boolean validId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** The same job with its request key. */
  JobSpec withKey(String key) {
    return new JobSpec(id, key, prompt, negativePrompt, steps, cfg, seed, priority, client, webhook, variants, model);
  }

  /**
   * The file name of a result of variant {@code variant} with {@code suffix} (".wav", ".mov", ".flac"):
   * {@code <id><suffix>} for variant 0, {@code <id>.v<i><suffix>} for the others (so expiry's
   * {@code <id>.*} takes them all).
   */
  static String resultName(String id, int variant, String suffix) {
    return variant == 0 ? id + suffix : id + ".v" + variant + suffix;
  }

  /** The upload's file name under the uploads directory. */
  String videoName() {
    return id + ".mp4";
  }

  FoleyRequest toRequest(Path uploads) {
    return toRequest(FoleyRequest.builder(uploads.resolve(videoName())));
  }

  /**
   * The request of a streamed upload ({@code POST /v1/jobs/stream}): the video is read from {@code
   * video} as it arrives, at most {@code maxBytes}, and decoded while it arrives where it can be
   * (unless {@code readWhole}).
   */
  FoleyRequest toRequest(java.io.InputStream video, long maxBytes, boolean readWhole) {
    FoleyRequest.Builder b = FoleyRequest.builder(video).maxStreamBytes(maxBytes);
    return toRequest(readWhole ? b.readWhole() : b);
  }

  private FoleyRequest toRequest(FoleyRequest.Builder b) {
    b.seed(seed).priority(priority).clientId(client).variants(variants);
    if (prompt != null) {
      b.prompt(prompt);
    }
    if (negativePrompt != null) {
      b.negativePrompt(negativePrompt);
    }
    if (steps > 0) {
      b.steps(steps);
    }
    if (!Double.isNaN(cfg)) {
      b.cfgScale(cfg);
    }
    return b.build();
  }

  Map<String, String> toFields() {
    Map<String, String> m = new HashMap<>();
    m.put("id", id);
    m.put("key", key);
    if (prompt != null) {
      m.put("prompt", prompt);
    }
    if (negativePrompt != null) {
      m.put("negative_prompt", negativePrompt);
    }
    m.put("steps", Integer.toString(steps));
    m.put("cfg", Double.toString(cfg));
    m.put("seed", Long.toString(seed));
    m.put("priority", priority.name());
    m.put("client", client);
    m.put("variants", Integer.toString(variants));
    if (webhook != null) {
      m.put("webhook", webhook);
    }
    if (model != null) {
      m.put("model", model);
    }
    return m;
  }

  /**
   * The job a stream entry carries.
   *
   * @throws IllegalArgumentException naming the field, for an entry this service did not write (a
   *     missing or malformed field)
   */
  static JobSpec fromFields(Map<String, String> m) {
    String id = m.get("id");
    if (!validId(id)) {
      throw new IllegalArgumentException("field id is " + (id == null ? "missing" : "\"" + id + "\"")
          + ", not a job id of 32 hex digits");
    }
    if (m.get("key") == null || m.get("client") == null) {
      throw new IllegalArgumentException("field " + (m.get("key") == null ? "key" : "client") + " is missing");
    }
    int steps = (int) parse(m, "steps", Integer::parseInt);
    double cfg = (double) parse(m, "cfg", Double::parseDouble);
    long seed = (long) parse(m, "seed", Long::parseLong);
    Priority priority = (Priority) parse(m, "priority", Priority::valueOf);
    // an entry of a node from before variants has no field: one variant
    int variants = m.get("variants") == null ? 1 : (int) parse(m, "variants", Integer::parseInt);
    return new JobSpec(id, m.get("key"), m.get("prompt"), m.get("negative_prompt"), steps, cfg, seed, priority,
        m.get("client"), m.get("webhook"), variants, m.get("model"));
  }

  private static Object parse(Map<String, String> m, String field, java.util.function.Function<String, ?> parser) {
    String v = m.get(field);
    if (v == null) {
      throw new IllegalArgumentException("field " + field + " is missing");
    }
    try {
      return parser.apply(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("field " + field + " is \"" + v + "\", which is not valid: " + e.getMessage(),
          e);
    }
  }
}
